package dev.pods.spi;

import java.util.List;

/**
 * Where a {@link dev.pods.PodRuntime} keeps its records: one small document per key (a deployment's record, with
 * its pod, addresses and agent tokens, per pod name), read back when a runtime is built to adopt what an earlier
 * one left running. By default the runtime keeps them as files in its state folder (atomic, fsynced writes, mode
 * 0600); {@link dev.pods.PodRuntime.Builder#stateStore} puts them elsewhere (a database, a replicated store), and
 * {@code dev.pods.testing.InMemoryStateStore} keeps them in memory for tests.
 *
 * <p><b>Contract.</b> Thread-safe and blocking. {@link #put} is atomic and durable: after a crash at any point, a
 * reader sees either the old document or the new one, never a mix, and a returned put survives a power loss.
 * Failures are {@link dev.pods.PodsException}s naming the key. Values may hold secrets (agent tokens): a store
 * keeps them readable by their owner only. One runtime at a time uses a store (the runtime holds its state folder's
 * lock meanwhile); a store is not closed by the runtime.
 *
 * @since 0.1
 */
public interface StateStore {

  /** Stores {@code value} under {@code key}, replacing what was there. */
  void put(String key, byte[] value);

  /** Removes the document of {@code key}; a no-op when there is none. */
  void remove(String key);

  /**
   * Every stored document, in no particular order, each with where it is (for messages). Leftovers of writes a
   * crash interrupted are not documents.
   */
  List<Entry> all();

  /**
   * One stored document.
   *
   * @param where where it is stored (a file name), for messages
   * @param value its content
   */
  record Entry(String where, byte[] value) {}
}
