package dev.pods.runtime;

import dev.pods.PodRuntime;
import dev.pods.spi.PodRuntimeProvider;
import dev.pods.spi.RuntimeSettings;

/**
 * Registers {@link DefaultPodRuntime} as the {@link PodRuntimeProvider} (found with {@link java.util.ServiceLoader});
 * stateless and thread-safe.
 */
public final class DefaultPodRuntimeProvider implements PodRuntimeProvider {
  /** Creates the provider (called by {@link java.util.ServiceLoader}). */
  public DefaultPodRuntimeProvider() {}

  @Override
  public String name() {
    return "default";
  }

  @Override
  public int priority() {
    return 0;
  }

  @Override
  public PodRuntime start(RuntimeSettings settings) {
    return DefaultPodRuntime.start(settings);
  }
}
