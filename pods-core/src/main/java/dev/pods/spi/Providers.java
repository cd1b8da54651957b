package dev.pods.spi;

import dev.pods.BackendUnavailableException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Finds backend providers ({@link HypervisorProvider}, {@link NetworkDriverProvider}) with
 * {@link ServiceLoader}: the available one of highest priority wins; when none is available, the error lists
 * every candidate and why it cannot run here. A provider that fails to load or to answer counts as
 * unavailable, with its failure as the reason. Stateless and thread-safe; each call loads providers anew.
 *
 * <pre>{@code
 * try (Hypervisor hv = Providers.hypervisor().create(HypervisorConfig.DEFAULT)) { ... }
 * }</pre>
 *
 * @since 0.1
 */
public final class Providers {
  private Providers() {}

  /**
   * The best available hypervisor provider on the class path.
   *
   * @throws BackendUnavailableException listing every candidate and its reason when none is available
   */
  public static HypervisorProvider hypervisor() {
    return discover(
        HypervisorProvider.class,
        HypervisorProvider::name,
        HypervisorProvider::priority,
        HypervisorProvider::unavailableReason,
        "hypervisor (add dev.pods:pods-kvm to the class path)");
  }

  /**
   * The best available network driver provider on the class path.
   *
   * @throws BackendUnavailableException listing every candidate and its reason when none is available
   */
  public static NetworkDriverProvider network() {
    return discover(
        NetworkDriverProvider.class,
        NetworkDriverProvider::name,
        NetworkDriverProvider::priority,
        NetworkDriverProvider::unavailableReason,
        "network driver (add dev.pods:pods-net to the class path)");
  }

  /**
   * The implementation of {@link dev.pods.PodRuntime} ({@code pods-core} registers its own): the one of highest
   * priority among those registered.
   *
   * @throws BackendUnavailableException when none is registered (a {@code pods-core} jar without its service
   *     registration), or none can be loaded
   */
  public static PodRuntimeProvider runtime() {
    return discover(
        PodRuntimeProvider.class,
        PodRuntimeProvider::name,
        PodRuntimeProvider::priority,
        p -> Optional.empty(),
        "pod runtime engine (dev.pods:pods-core registers one)");
  }

  /**
   * The available provider of highest priority among {@code candidates}, which {@link #hypervisor()} and
   * {@link #network()} load with {@link ServiceLoader}.
   *
   * @param what what is looked for, for the error message
   * @throws BackendUnavailableException listing every candidate and its reason when none is available
   */
  public static <P> P choose(
      List<P> candidates,
      Function<P, String> name,
      ToIntFunction<P> priority,
      Function<P, Optional<String>> unavailableReason,
      String what) {
    List<String> reasons = new ArrayList<>();
    List<P> available = new ArrayList<>();
    for (P p : candidates) {
      try {
        Optional<String> why = unavailableReason.apply(p);
        if (why.isPresent()) {
          reasons.add(name.apply(p) + ": " + why.get());
        } else {
          available.add(p);
        }
      } catch (RuntimeException e) {
        reasons.add(p.getClass().getName() + ": " + e);
      }
    }
    return available.stream()
        .max(Comparator.comparingInt(priority))
        .orElseThrow(
            () ->
                new BackendUnavailableException(
                    "no "
                        + what
                        + " is available"
                        + (reasons.isEmpty() ? ": none is registered" : ":\n  " + String.join("\n  ", reasons))));
  }

  private static <P> P discover(
      Class<P> type,
      Function<P, String> name,
      ToIntFunction<P> priority,
      Function<P, Optional<String>> unavailableReason,
      String what) {
    List<P> candidates = new ArrayList<>();
    List<String> broken = new ArrayList<>();
    ServiceLoader<P> loader = ServiceLoader.load(type, Providers.class.getClassLoader());
    var it = loader.iterator();
    while (true) {
      try {
        if (!it.hasNext()) {
          break;
        }
        candidates.add(it.next());
      } catch (ServiceConfigurationError e) {
        broken.add(e.getMessage());
      }
    }
    try {
      return choose(candidates, name, priority, unavailableReason, what);
    } catch (BackendUnavailableException e) {
      if (broken.isEmpty()) {
        throw e;
      }
      throw new BackendUnavailableException(e.getMessage() + "\n  failed to load: " + String.join("; ", broken));
    }
  }
}
