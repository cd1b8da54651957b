package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.InstanceState;
import dev.pods.OutputStream;
import dev.pods.PodEvent;
import dev.pods.etcd.internal.EventRecord;
import dev.pods.etcd.internal.StatusRecord;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a node writes to a real etcd member: statuses wait for the node's lease and go under it; events are written in
 * batches under a lease of their own; output lines beyond the rate are dropped and counted in
 * {@link PodEvent.EventsDropped} events; a write etcd refuses is tried again.
 */
class HostWriterTest {
  private static EtcdCluster etcd;
  private static Client client;

  @BeforeAll
  static void start() {
    etcd = EtcdCluster.start(1);
    client = etcd.client();
  }

  @AfterAll
  static void stop() {
    client.close();
    etcd.close();
  }

  private static List<KeyValue> get(EtcdKeyspace space, String dir) {
    return space.call("test reading " + dir,
        () -> space.kv().get(space.key(dir), GetOption.builder().isPrefix(true).build())).getKvs();
  }

  @Test
  void linesBeyondTheRateAreDroppedAndCounted() throws Exception {
    EtcdKeyspace space = EtcdKeyspace.of(client, "/pods-test/writer-lines");
    int sent = 3000;
    try (HostWriter w = new HostWriter(space, "h1", () -> 0)) {
      Instant at = Instant.now();
      w.event("shop", new PodEvent.StateChanged("web-0", at, InstanceState.BOOTING, InstanceState.READY, null));
      for (int i = 0; i < sent; i++) {
        w.event("shop", new PodEvent.OutputLine("web-0", at, "r1", 0, OutputStream.STDOUT, "line " + i));
      }
      Waits.until(space, "the events written", Duration.ofSeconds(30), w::idle);
    }
    List<PodEvent> events = new ArrayList<>();
    for (KeyValue kv : get(space, ClusterKeys.EVENTS + "shop/")) {
      assertThat(ClusterKeys.text(kv.getKey())).matches(".*/cluster/events/shop/h1-\\d{19}");
      assertThat(client.getLeaseClient().timeToLive(kv.getLease(), io.etcd.jetcd.options.LeaseOption.DEFAULT)
          .get(10, java.util.concurrent.TimeUnit.SECONDS).getGrantedTTL()).as("events kept ten minutes")
          .isEqualTo(HostWriter.EVENT_LEASE.toSeconds()).isEqualTo(600);
      events.add(EventRecord.read(kv.getValue().getBytes(), ClusterKeys.text(kv.getKey())));
    }
    long lines = events.stream().filter(e -> e instanceof PodEvent.OutputLine).count();
    List<PodEvent.EventsDropped> dropped = events.stream().filter(e -> e instanceof PodEvent.EventsDropped)
        .map(e -> (PodEvent.EventsDropped) e).toList();
    assertThat(events.get(0)).isInstanceOf(PodEvent.StateChanged.class);
    assertThat(lines).isBetween((long) HostWriter.LINE_BURST, (long) sent - 1);
    // each round of the writer says what it dropped since the round before
    assertThat(dropped).isNotEmpty().allSatisfy(d -> assertThat(d.instance()).isEqualTo("web-0"));
    assertThat(dropped.stream().mapToLong(PodEvent.EventsDropped::count).sum()).isEqualTo(sent - lines);
  }

  @Test
  void statusesWaitForTheNodesLeaseAndGoUnderIt() throws Exception {
    EtcdKeyspace space = EtcdKeyspace.of(client, "/pods-test/writer-status");
    long[] lease = {0};
    long granted = space.call("test lease", () -> client.getLeaseClient().grant(30)).getID();
    StatusRecord s = new StatusRecord("h1", "READY", "", 1L, "10.98.0.2", null, "v", "t-shop-web-0");
    try (HostWriter w = new HostWriter(space, "h1", () -> lease[0])) {
      w.status("shop", "web-0", s);
      assertThat(w.idle()).isFalse();
      assertThat(get(space, ClusterKeys.STATUS)).isEmpty();
      lease[0] = granted;
      w.wake();
      Waits.until(space, "the status written", Duration.ofSeconds(30), w::idle);
      List<KeyValue> kvs = get(space, ClusterKeys.STATUS);
      assertThat(kvs).hasSize(1);
      assertThat(kvs.get(0).getLease()).isEqualTo(granted);
      assertThat(new ClusterKeys(space).value(kvs.get(0), StatusRecord.class)).isEqualTo(s);
      // its removal removes what this writer wrote
      w.status("shop", "web-0", null);
      Waits.until(space, "the status removed", Duration.ofSeconds(30), w::idle);
      assertThat(get(space, ClusterKeys.STATUS)).isEmpty();
    }
  }

  @Test
  void aFailedWriteIsTriedAgainUntilItLands() throws Exception {
    EtcdKeyspace plain = EtcdKeyspace.of(client, "/pods-test/writer-retry");
    // the first three requests fail as etcd refusing them would (no retry by the keyspace: a failure)
    java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger(3);
    EtcdKeyspace flaky = plain.withSender(new EtcdKeyspace.Sender() {
      @Override
      public <T> java.util.concurrent.CompletableFuture<T> send(String what, int attempt,
          java.util.function.Supplier<java.util.concurrent.CompletableFuture<T>> request) {
        if (failures.getAndDecrement() > 0) {
          return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("refused: " + what));
        }
        return request.get();
      }
    });
    try (HostWriter w = new HostWriter(flaky, "h1", () -> 0)) {
      w.event("shop", new PodEvent.StateChanged("web-0", Instant.now(), InstanceState.BOOTING, InstanceState.READY,
          null));
      Waits.until(plain, "the event written", Duration.ofSeconds(30), w::idle);
    }
    assertThat(failures.get()).isNegative();
    List<KeyValue> kvs = get(plain, ClusterKeys.EVENTS + "shop/");
    assertThat(kvs).hasSize(1);
    assertThat(EventRecord.read(kvs.get(0).getValue().getBytes(), "event")).isInstanceOf(PodEvent.StateChanged.class);
  }
}
