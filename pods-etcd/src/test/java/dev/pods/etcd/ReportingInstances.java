package dev.pods.etcd;

import dev.pods.InstanceState;
import dev.pods.OutputStream;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.Unit;
import dev.pods.etcd.internal.ClusterJson;
import dev.pods.etcd.internal.EventRecord;
import dev.pods.etcd.internal.ExecRecord;
import dev.pods.etcd.internal.StatusRecord;
import dev.pods.spi.PodDocuments;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A node's host for tests, standing in for the local runtime a real node drives (until {@code ClusterHost} exists):
 * it does what the cluster design says a node does, with names instead of VMs. Each started instance goes through
 * CREATING, BOOTING, INITIALIZING to READY, with a status record under this host's lease (so it vanishes when the
 * host's etcd connection dies) and an event record per state change plus one output line; a change of its unit in
 * the desired pod runs it again (BOOTING to READY with the new spec version); a stop writes DESTROYED and removes
 * the record; exec requests addressed to the node are answered ({@code echo ARGS} prints them, anything else exits
 * 127 with an error line). Addresses come from a counter. Thread-safe (one lock). In pods-etcd's test-jar, for
 * other modules' tests of cluster clients.
 */
public final class ReportingInstances implements LocalInstances, AutoCloseable {
  private final EtcdKeyspace space;
  private final ClusterKeys keys;
  private final String node;
  private final long lease;
  private final long eventLease;
  private final Map<String, String> running = new TreeMap<>();
  private final AtomicLong seq = new AtomicLong();
  private final Watch.Watcher specs;
  private final Watch.Watcher execs;
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "test-node-host");
    t.setDaemon(true);
    return t;
  });
  private int addresses;

  /** The host of node {@code node}, reporting under a lease of its own of {@code leasePeriod} on {@code space}. */
  public ReportingInstances(EtcdKeyspace space, String node, Duration leasePeriod) {
    this.space = space;
    this.keys = new ClusterKeys(space);
    this.node = node;
    this.lease = space.call("lease", () -> space.client().getLeaseClient().grant(leasePeriod.toSeconds())).getID();
    this.eventLease = space.call("lease", () -> space.client().getLeaseClient().grant(600)).getID();
    space.client().getLeaseClient().keepAlive(lease, new StreamObserver<LeaseKeepAliveResponse>() {
      @Override
      public void onNext(LeaseKeepAliveResponse r) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    specs = space.client().getWatchClient().watch(keys.key(ClusterKeys.PODS),
        WatchOption.builder().isPrefix(true).build(), Watch.listener(r -> worker.execute(() -> {
          for (WatchEvent e : r.getEvents()) {
            if (e.getEventType() == WatchEvent.EventType.PUT) {
              specChanged(e.getKeyValue());
            }
          }
        })));
    execs = space.client().getWatchClient().watch(keys.key(ClusterKeys.EXEC + node + "/"),
        WatchOption.builder().isPrefix(true).build(), Watch.listener(r -> worker.execute(() -> {
          for (WatchEvent e : r.getEvents()) {
            if (e.getEventType() == WatchEvent.EventType.PUT) {
              answer(e.getKeyValue());
            }
          }
        })));
  }

  @Override
  public synchronized Set<String> running() {
    return new TreeSet<>(running.keySet());
  }

  @Override
  public synchronized void start(Assignment a) {
    String id = a.instance();
    String pod = id.substring(0, id.indexOf('/'));
    String name = id.substring(id.indexOf('/') + 1);
    Pod p = PodDocuments.decode(space.call("pod", () -> space.kv().get(keys.key(ClusterKeys.PODS + pod)))
        .getKvs().get(0).getValue().getBytes(), pod);
    String version = version(p, name);
    String address = "10.97.0." + (++addresses * 4 + 2);
    running.put(id, address);
    InstanceState before = InstanceState.PENDING;
    for (InstanceState s : List.of(InstanceState.CREATING, InstanceState.BOOTING, InstanceState.INITIALIZING,
        InstanceState.READY)) {
      report(pod, name, before, s, address, version);
      before = s;
    }
    event(pod, new PodEvent.OutputLine(name, Instant.now(), "r-1", 0, OutputStream.STDOUT,
        "hello from " + name + " on " + node));
  }

  @Override
  public synchronized void stop(String instance) {
    String pod = instance.substring(0, instance.indexOf('/'));
    running.remove(instance);
    event(pod, new PodEvent.StateChanged(instance.substring(pod.length() + 1), Instant.now(), InstanceState.READY,
        InstanceState.DESTROYED, null));
    space.call("status", () -> space.kv().delete(keys.key(ClusterKeys.STATUS + instance)));
  }

  private static String version(Pod p, String name) {
    String unit = name.substring(0, name.lastIndexOf('-'));
    return PodDocuments.unitVersion(p.unit(unit).orElseThrow());
  }

  private synchronized void specChanged(KeyValue kv) {
    Pod p = PodDocuments.decode(kv.getValue().getBytes(), "pod");
    running.forEach((id, address) -> {
      if (!id.startsWith(p.name() + "/")) {
        return;
      }
      String name = id.substring(p.name().length() + 1);
      Unit u = p.unit(name.substring(0, name.lastIndexOf('-'))).orElse(null);
      if (u == null) {
        return;
      }
      String version = PodDocuments.unitVersion(u);
      KeyValue had = space.call("status", () -> space.kv().get(keys.key(ClusterKeys.STATUS + id))).getKvs().stream()
          .findFirst().orElse(null);
      if (had != null && !keys.value(had, StatusRecord.class).specVersion().equals(version)) {
        report(p.name(), name, InstanceState.READY, InstanceState.BOOTING, address, version);
        report(p.name(), name, InstanceState.BOOTING, InstanceState.READY, address, version);
      }
    });
  }

  private void report(String pod, String name, InstanceState from, InstanceState to, String address,
      String version) {
    Instant now = Instant.now();
    StatusRecord s = new StatusRecord(node, to.name(), "", now.toEpochMilli(), address, null, version,
        "test-" + pod + "-" + name);
    space.call("status", () -> space.kv().put(keys.key(ClusterKeys.STATUS + pod + "/" + name), ClusterKeys.json(s),
        PutOption.builder().withLeaseId(lease).build()));
    event(pod, new PodEvent.StateChanged(name, now, from, to, null));
  }

  private void event(String pod, PodEvent e) {
    String key = ClusterKeys.EVENTS + pod + "/" + node + "-" + String.format(java.util.Locale.ROOT, "%012d", seq.incrementAndGet());
    space.call("event", () -> space.kv().put(keys.key(key), ByteSequence.from(EventRecord.write(e)),
        PutOption.builder().withLeaseId(eventLease).build()));
  }

  private void answer(KeyValue kv) {
    String id = ClusterKeys.text(kv.getKey()).substring(ClusterKeys.text(kv.getKey()).lastIndexOf('/') + 1);
    ExecRecord r = keys.value(kv, ExecRecord.class);
    boolean runs;
    synchronized (this) {
      runs = running.containsKey(r.pod() + "/" + r.instance());
    }
    ExecRecord.Result result;
    if (!runs) {
      result = new ExecRecord.Result(0, new byte[0], new byte[0], false, "instance " + r.instance()
          + " does not run on " + node);
    } else if (r.argv().get(0).equals("echo")) {
      result = new ExecRecord.Result(0, (String.join(" ", r.argv().subList(1, r.argv().size())) + "\n")
          .getBytes(StandardCharsets.UTF_8), new byte[0], false, null);
    } else {
      result = new ExecRecord.Result(127, new byte[0], (r.argv().get(0) + ": not found\n")
          .getBytes(StandardCharsets.UTF_8), false, null);
    }
    space.call("exec result", () -> space.kv().put(keys.key(ClusterKeys.EXEC_RESULT + id),
        ByteSequence.from(ClusterJson.write(result)), PutOption.builder().withLeaseId(kv.getLease()).build()));
  }

  /** Stops watching (the status records stay until the lease expires or the client closes). */
  @Override
  public void close() {
    specs.close();
    execs.close();
    worker.shutdownNow();
  }
}
