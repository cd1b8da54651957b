package dev.pods.runtime;

import java.util.List;

/**
 * Where a runtime keeps its records: one small document per key (a deployment's record per pod name). The seam
 * for a later public {@code StateStore} SPI (ARCHITECTURE, section 7); today the runtime uses
 * {@link FileStateStore} on its state folder.
 *
 * <p><b>Contract.</b> Thread-safe and blocking. {@link #put} is atomic and durable: after a crash at any point, a
 * reader sees either the old document or the new one, never a mix, and a returned put survives a power loss.
 * Failures are {@link dev.pods.PodsException}s naming the key. Values may hold secrets (agent tokens): a store
 * keeps them readable by their owner only.
 */
interface StateStore {

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
