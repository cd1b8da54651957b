package dev.pods.spi;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Where the host application keeps the values of the secrets units declare ({@code secrets: [+/secret/NAME]}): per
 * name a map of keys to strings. The runtime reads a value when it deploys a unit declaring the name (a missing one
 * is an error then) and whenever it builds an instance's metadata view; the metadata service hands the fields to
 * the declaring instances only ({@code pods get +/secret/NAME/KEY}). A {@link #put} notifies the listeners, and the
 * runtime turns that into a live change: the declaring instances run their {@code reload} blocks.
 * {@code dev.pods.secrets} has an in-memory store and a file-backed one.
 *
 * <p><b>Contract.</b> Thread-safe and blocking. Names follow {@link #NAME}, keys {@link #KEY}. Values never appear
 * in exception messages, {@code toString()} or logs. Listeners run on the thread that changed the value, after the
 * change is visible to {@link #get}; they must return quickly and not throw (a throwing listener is logged and
 * skipped). A store is not closed by the runtime.
 *
 * @since 0.1
 */
public interface SecretStore {
  /** The rule of secret names (the {@code NAME} of {@code +/secret/NAME}). */
  Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  /** The rule of keys inside a secret (the {@code KEY} of {@code +/secret/NAME/KEY}). */
  Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

  /** The fields of secret {@code name} (an unmodifiable copy), or empty when the store has none. */
  Optional<Map<String, String>> get(String name);

  /**
   * Sets (replaces) secret {@code name}'s fields and then notifies the listeners.
   *
   * @throws IllegalArgumentException when the name or a key breaks its rule (the message names it, never a value)
   */
  void put(String name, Map<String, String> fields);

  /** Removes secret {@code name} and notifies the listeners; a no-op when there is none. */
  void remove(String name);

  /** The names of the secrets the store holds. */
  Set<String> names();

  /**
   * Calls {@code listener} with a secret's name after each {@link #put} or {@link #remove} of it.
   *
   * @return closing it (idempotent) removes the listener
   */
  Registration onChange(Consumer<String> listener);

  /** A listener's registration. */
  interface Registration extends AutoCloseable {
    /** Removes the listener; idempotent. */
    @Override
    void close();
  }

  /**
   * Checks a name and the keys of {@code fields}.
   *
   * @throws IllegalArgumentException naming the bad name or key (never a value)
   */
  static void check(String name, Map<String, String> fields) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid secret name '" + name + "': " + NAME.pattern());
    }
    for (Map.Entry<String, String> e : fields.entrySet()) {
      if (!KEY.matcher(e.getKey()).matches()) {
        throw new IllegalArgumentException("secret " + name + ": invalid key '" + e.getKey() + "': " + KEY.pattern());
      }
      if (e.getValue() == null) {
        throw new IllegalArgumentException("secret " + name + ": key " + e.getKey() + " has no value");
      }
    }
  }
}
