package dev.pods.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.PodsException;
import dev.pods.etcd.EtcdKeyspace;
import dev.pods.etcd.EtcdStateStore;
import dev.pods.etcd.EtcdCluster;
import dev.pods.spi.StateStore;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The state store contract against a real single-member etcd on loopback; {@link #reopen()} reads through a second
 * client connection, as a later runtime would.
 */
class EtcdStateStoreTest extends StateStoreContract {
  private static EtcdCluster etcd;
  private static Client writer;
  private static Client reader;
  private static int stores;
  private String prefix = "/pods-test/none";

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdCluster.start(1);
    writer = etcd.client();
    reader = etcd.client();
  }

  @AfterAll
  static void stopEtcd() {
    writer.close();
    reader.close();
    etcd.close();
  }

  @Override
  StateStore store() {
    prefix = "/pods-test/state-" + stores++;
    return new EtcdStateStore(EtcdKeyspace.of(writer, prefix));
  }

  @Override
  StateStore reopen() {
    return new EtcdStateStore(EtcdKeyspace.of(reader, prefix));
  }

  @Test
  void eachCallIsOneRequest() {
    EtcdKeyspace space = EtcdKeyspace.of(writer, "/pods-test/costs");
    StateStore s = new EtcdStateStore(space);
    s.put("shop", bytes("one"));
    s.all();
    s.remove("shop");
    assertThat(space.requests()).isEqualTo(3);
  }

  @Test
  void aDocumentOverTheClustersRequestLimitFailsNamingTheKey() {
    StateStore s = store();
    assertThatThrownBy(() -> s.put("huge", new byte[2 * 1024 * 1024]))
        .isInstanceOf(PodsException.class).hasMessageContaining("writing state 'huge'");
    assertThat(s.all()).isEmpty();
  }

  @Test
  void documentsAreEtcdKeysUnderThePrefixAndOtherPrefixesAreApart() {
    StateStore s = store();
    s.put("shop", bytes("one"));
    assertThat(s.all()).singleElement()
        .satisfies(e -> assertThat(e.where()).isEqualTo("etcd:" + prefix + "/state/shop"));
    assertThat(store().all()).isEmpty();
  }
}
