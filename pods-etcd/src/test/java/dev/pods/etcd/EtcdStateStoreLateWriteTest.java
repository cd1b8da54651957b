package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.ConflictException;
import dev.pods.spi.StateStore;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.TxnResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A write whose answer is lost is sent again; the first attempt may still reach etcd later. These tests hold the
 * first attempt of a request back (the keyspace's {@code Sender} seam: the attempt is reported lost with gRPC
 * {@code UNAVAILABLE}, so the store sends it again at once), let newer writes happen, then send the held request
 * to the real etcd member as it was built: the guarded store's late write changes nothing.
 */
class EtcdStateStoreLateWriteTest {
  private static EtcdCluster etcd;
  private static Client client;
  private static int spaces;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdCluster.start(1);
    client = etcd.client();
  }

  @AfterAll
  static void stopEtcd() {
    client.close();
    etcd.close();
  }

  private static String prefix() {
    return "/pods-test/late-" + spaces++;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String only(StateStore s) {
    assertThat(s.all()).hasSize(1);
    return new String(s.all().get(0).value(), StandardCharsets.UTF_8);
  }

  @Test
  void aPlainPutSentLateBringsBackTheOlderDocument() throws Exception {
    // What the guard is for: the same hold-and-send-late with an unguarded put overwrites the newer document.
    String prefix = prefix();
    EtcdLateWrites.HoldFirst sender = new EtcdLateWrites.HoldFirst();
    EtcdKeyspace space = EtcdKeyspace.of(client, prefix).withSender(sender);
    ByteSequence k = space.key("state/shop");
    sender.holdNext("plain put");
    space.call("plain put", () -> space.kv().put(k, ByteSequence.from(bytes("v2"))));
    new EtcdStateStore(EtcdKeyspace.of(client, prefix)).put("shop", bytes("v3"));
    sender.sendHeld();
    assertThat(only(new EtcdStateStore(EtcdKeyspace.of(client, prefix)))).isEqualTo("v2");
  }

  @Test
  void aResentPutCommittedLateDoesNotOverwriteANewerDocument() throws Exception {
    String prefix = prefix();
    EtcdLateWrites.HoldFirst sender = new EtcdLateWrites.HoldFirst();
    StateStore store = new EtcdStateStore(EtcdKeyspace.of(client, prefix).withSender(sender));
    store.put("shop", bytes("v1"));
    sender.holdNext("writing state 'shop'");
    store.put("shop", bytes("v2")); // the first attempt is held; the second is committed
    assertThat(only(new EtcdStateStore(EtcdKeyspace.of(client, prefix)))).isEqualTo("v2");
    store.put("shop", bytes("v3"));

    TxnResponse late = (TxnResponse) sender.sendHeld();

    assertThat(late.isSucceeded()).as("the late attempt's compare").isFalse();
    assertThat(only(new EtcdStateStore(EtcdKeyspace.of(client, prefix)))).isEqualTo("v3");
    store.put("shop", bytes("v4")); // and the store goes on writing
    assertThat(only(store)).isEqualTo("v4");
  }

  @Test
  void aResentFirstPutCommittedLateDoesNotOverwriteEither() throws Exception {
    String prefix = prefix();
    EtcdLateWrites.HoldFirst sender = new EtcdLateWrites.HoldFirst();
    StateStore store = new EtcdStateStore(EtcdKeyspace.of(client, prefix).withSender(sender));
    sender.holdNext("writing state 'shop'");
    store.put("shop", bytes("v1"));
    store.put("shop", bytes("v2"));
    assertThat(((TxnResponse) sender.sendHeld()).isSucceeded()).isFalse();
    assertThat(only(store)).isEqualTo("v2");
  }

  @Test
  void aResentRemoveCommittedLateDoesNotRemoveANewerDocument() throws Exception {
    String prefix = prefix();
    EtcdLateWrites.HoldFirst sender = new EtcdLateWrites.HoldFirst();
    StateStore store = new EtcdStateStore(EtcdKeyspace.of(client, prefix).withSender(sender));
    store.put("shop", bytes("v1"));
    sender.holdNext("removing state 'shop'");
    store.remove("shop");
    assertThat(store.all()).isEmpty();
    store.put("shop", bytes("v2"));
    assertThat(((TxnResponse) sender.sendHeld()).isSucceeded()).isFalse();
    assertThat(only(store)).isEqualTo("v2");
  }

  @Test
  void aSecondStoreOnThePrefixConflictsInsteadOfOverwriting() {
    String prefix = prefix();
    StateStore first = new EtcdStateStore(EtcdKeyspace.of(client, prefix));
    StateStore second = new EtcdStateStore(EtcdKeyspace.of(client, prefix));
    first.put("shop", bytes("one"));
    second.put("shop", bytes("two")); // a key it had not seen: it learns the revision and writes
    assertThatThrownBy(() -> first.put("shop", bytes("three")))
        .isInstanceOf(ConflictException.class)
        .hasMessageContaining("state 'shop'").hasMessageContaining("changed by another writer");
    assertThat(only(second)).isEqualTo("two");
    first.all(); // a read shows the store the current revision
    first.put("shop", bytes("three"));
    assertThat(only(second)).isEqualTo("three");
  }
}
