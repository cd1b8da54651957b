package dev.pods.spi;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link NetworkDriverProvider} needs to make a driver: where its state lives, the runtime's prefix that
 * names (and marks as its own) everything the driver creates, and the namespace the hypervisor sees. Immutable.
 *
 * @param stateDir the driver's state directory (records, leases, address pools)
 * @param prefix the runtime's prefix, distinct per runtime on a host: 1..12 lower-case letters and digits, starting
 *     with a letter
 * @param vmNamespace the named network namespace the hypervisor sees, or null for the JVM's own
 * @since 0.1
 */
public record NetworkDriverConfig(Path stateDir, String prefix, @Nullable String vmNamespace) {
  private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{0,11}");

  /** Validates the prefix. */
  public NetworkDriverConfig {
    Objects.requireNonNull(stateDir, "stateDir");
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException("prefix must be 1..12 lower-case letters or digits: '" + prefix + "'");
    }
  }
}
