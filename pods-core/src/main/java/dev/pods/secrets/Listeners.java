package dev.pods.secrets;

import dev.pods.spi.SecretStore;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The change listeners of a secret store. Thread-safe. */
final class Listeners {
  private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);
  private final CopyOnWriteArrayList<Consumer<String>> list = new CopyOnWriteArrayList<>();

  SecretStore.Registration add(Consumer<String> listener) {
    Objects.requireNonNull(listener, "listener");
    list.add(listener);
    return () -> list.remove(listener);
  }

  boolean isEmpty() {
    return list.isEmpty();
  }

  void changed(String name) {
    for (Consumer<String> l : list) {
      try {
        l.accept(name);
      } catch (RuntimeException e) {
        LOG.warn("a listener of secret {} failed", name, e);
      }
    }
  }
}
