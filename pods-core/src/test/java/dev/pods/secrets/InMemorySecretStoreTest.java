package dev.pods.secrets;

import dev.pods.spi.SecretStore;

class InMemorySecretStoreTest extends SecretStoreContract {
  private InMemorySecretStore last = new InMemorySecretStore();

  @Override
  SecretStore store() {
    last = new InMemorySecretStore();
    return last;
  }

  @Override
  SecretStore reopen() {
    return last;
  }
}
