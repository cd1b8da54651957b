package dev.pods.testing;

import dev.pods.spi.StateStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link StateStore} in memory, for tests: hand the same object to a second runtime (with the same fakes) to
 * simulate a restart. Documents are copied in and out, so callers cannot change what is stored. Thread-safe; never
 * blocks on I/O; nothing to close. Passes the same contract tests as the runtime's file store.
 *
 * @since 0.1
 */
public final class InMemoryStateStore implements StateStore {
  private final Map<String, byte[]> docs = new LinkedHashMap<>();

  /** An empty store. */
  public InMemoryStateStore() {}

  @Override
  public synchronized void put(String key, byte[] value) {
    Objects.requireNonNull(key, "key");
    docs.put(key, value.clone());
  }

  @Override
  public synchronized void remove(String key) {
    docs.remove(Objects.requireNonNull(key, "key"));
  }

  @Override
  public synchronized List<Entry> all() {
    List<Entry> out = new ArrayList<>();
    docs.forEach((k, v) -> out.add(new Entry("memory:" + k, v.clone())));
    return out;
  }
}
