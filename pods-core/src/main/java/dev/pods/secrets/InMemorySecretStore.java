package dev.pods.secrets;

import dev.pods.spi.SecretStore;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A {@link SecretStore} whose values live in this JVM only (nothing is written anywhere): the host application
 * puts what it read from its own vault. Thread-safe; see {@link SecretStore} for the contract.
 *
 * @since 0.1
 */
public final class InMemorySecretStore implements SecretStore {
  private final Map<String, Map<String, String>> values = new ConcurrentHashMap<>();
  private final Listeners listeners = new Listeners();

  /** An empty store. */
  public InMemorySecretStore() {}

  @Override
  public Optional<Map<String, String>> get(String name) {
    return Optional.ofNullable(values.get(Objects.requireNonNull(name, "name")));
  }

  @Override
  public void put(String name, Map<String, String> fields) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(fields, "fields");
    SecretStore.check(name, fields);
    values.put(name, Map.copyOf(new TreeMap<>(fields)));
    listeners.changed(name);
  }

  @Override
  public void remove(String name) {
    if (values.remove(Objects.requireNonNull(name, "name")) != null) {
      listeners.changed(name);
    }
  }

  @Override
  public Set<String> names() {
    return Set.copyOf(values.keySet());
  }

  @Override
  public Registration onChange(Consumer<String> listener) {
    return listeners.add(listener);
  }

  /** Names the secrets, never their values. */
  @Override
  public String toString() {
    return "InMemorySecretStore" + new java.util.TreeSet<>(values.keySet());
  }
}
