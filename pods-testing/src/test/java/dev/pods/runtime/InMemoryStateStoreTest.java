package dev.pods.runtime;

import dev.pods.spi.StateStore;
import dev.pods.testing.InMemoryStateStore;

/** The in-memory fake passes the same contract as the file store. */
class InMemoryStateStoreTest extends StateStoreContract {
  private InMemoryStateStore last = new InMemoryStateStore();

  @Override
  StateStore store() {
    last = new InMemoryStateStore();
    return last;
  }

  @Override
  StateStore reopen() {
    return last;
  }
}
