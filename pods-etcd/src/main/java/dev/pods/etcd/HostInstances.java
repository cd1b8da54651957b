package dev.pods.etcd;

import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.InstanceStatus;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodEvents;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.etcd.internal.AddressRecord;
import dev.pods.etcd.internal.StatusRecord;
import dev.pods.spi.PodDocuments;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link LocalInstances} of a cluster node on a local {@link PodRuntime} built with the node's
 * {@link HostMembership}: starting an instance deploys its pod from the pod's document in etcd when the runtime has no
 * deployment of it yet, else marks the instance hosted (the runtime then creates it); stopping unmarks it (the runtime
 * removes it; the call returns once it is gone, or after {@link #STOP_TIMEOUT}) and destroys the local deployment
 * when the pod is no longer desired at all. It follows every local deployment: each state change writes the
 * instance's {@link StatusRecord} (or removes it once the instance is gone), the first one where its private address is
 * held ({@link AddressRecord}, for the leader's release), every event is written as an event record; and it applies a newer pod document (an apply or scale by a client) to the local deployment.
 *
 * <p>Thread-safe. {@link #start} and {@link #stop} block (a deploy, a removal); they are called by the node's thread.
 * Pod documents are applied on a daemon thread {@code pods-host-apply-NODE}. {@link #close()} stops following.
 */
final class HostInstances implements LocalInstances, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HostInstances.class);
  /** How long a stop waits for the runtime to remove the instance. */
  static final Duration STOP_TIMEOUT = Duration.ofMinutes(2);

  private final EtcdKeyspace space;
  private final ClusterKeys keys;
  private final String node;
  private final HostMembership membership;
  private final HostWriter writer;
  private final Map<String, PodEvents.Subscription> followed = new HashMap<>();
  private final ExecutorService applier;
  private final java.util.function.Supplier<@Nullable String> privatePool;
  /** Instances ({@code POD/UNIT-INDEX}) whose address record this node wrote. */
  private final Set<String> addressed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Local deployments destroyed (or being destroyed) here. */
  private final Set<Deployment> destroyed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile @Nullable PodRuntime runtime;

  HostInstances(EtcdKeyspace space, String node, HostMembership membership, HostWriter writer,
      java.util.function.Supplier<@Nullable String> privatePool) {
    this.privatePool = privatePool;
    this.space = space;
    this.keys = new ClusterKeys(space);
    this.node = node;
    this.membership = membership;
    this.writer = writer;
    this.applier = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "pods-host-apply-" + node);
      t.setDaemon(true);
      return t;
    });
  }

  /** The runtime, once built; follows what it adopted and returns the adopted instances ({@code POD/UNIT-INDEX}). */
  Set<String> runtime(PodRuntime r) {
    runtime = r;
    for (Deployment d : r.deployments()) {
      follow(d);
    }
    return running();
  }

  private PodRuntime rt() {
    PodRuntime r = runtime;
    if (r == null) {
      throw new IllegalStateException("node " + node + ": the local runtime is not built yet");
    }
    return r;
  }

  @Override
  public Set<String> running() {
    Set<String> out = new TreeSet<>();
    for (Deployment d : rt().deployments()) {
      for (Instance i : d.instances()) {
        if (i.state() != InstanceState.DESTROYED) {
          out.add(d.pod().name() + "/" + i.name());
        }
      }
    }
    return out;
  }

  @Override
  public void start(Assignment assignment) {
    String id = assignment.instance();
    String pod = HostMembership.pod(id);
    if (rt().deployment(pod).isPresent()) {
      membership.host(id); // told through the membership: the runtime creates it
      return;
    }
    membership.deploying(pod);
    Deployment d;
    try {
      membership.hostForDeploy(id);
      Pod doc = document(pod);
      if (doc == null) {
        membership.unhost(id);
        throw new PodsException("node '" + node + "' cannot start " + id + ": etcd holds no document of pod '" + pod
            + "' (removed meanwhile)");
      }
      d = rt().deploy(doc);
    } catch (RuntimeException e) {
      membership.unhost(id);
      failed(pod, id.substring(pod.length() + 1), e);
      throw e;
    } finally {
      membership.deployed(pod);
    }
    follow(d);
    LOG.info("node {}: deployed pod {} for {}", node, pod, id);
  }

  @Override
  public void stop(String instance) {
    String pod = HostMembership.pod(instance);
    String name = instance.substring(pod.length() + 1);
    Optional<Deployment> d = rt().deployment(pod);
    membership.unhost(instance);
    if (d.isEmpty()) {
      writer.status(pod, name, null); // a FAILED report of a deploy that could not be made here, if any
      return;
    }
    awaitGone(d.get(), name);
    writer.status(pod, name, null);
    if (membership.hosted(pod).isEmpty() && document(pod) == null) {
      destroy(d.get());
    }
  }

  /**
   * Reports that this node could not build instance {@code name} of {@code pod} (its local deploy refused the pod:
   * a setting this node lacks, an image its policy refuses): FAILED with the reason, so that clients and waits say
   * so instead of waiting for a report; the node tries again at its next reconcile.
   */
  private void failed(String pod, String name, RuntimeException e) {
    String reason = "node '" + node + "' cannot run it: " + dev.pods.internal.SafeText.oneLine(
        String.valueOf(e.getMessage()));
    java.time.Instant now = java.time.Instant.now();
    writer.status(pod, name, new StatusRecord(node, InstanceState.FAILED.name(), reason, now.toEpochMilli(), null,
        null, "", ""));
    writer.event(pod, new dev.pods.PodEvent.StateChanged(name, now, InstanceState.PENDING, InstanceState.FAILED,
        reason));
  }

  private void destroy(Deployment d) {
    String pod = d.pod().name();
    if (!destroyed.add(d)) {
      return; // destroyed already (the node's last stop, or an earlier read of the documents)
    }
    LOG.info("node {}: pod {} is no longer desired; destroys its local deployment", node, pod);
    d.destroy();
    PodEvents.Subscription s;
    synchronized (followed) {
      s = followed.remove(pod);
    }
    if (s != null) {
      s.close();
    }
  }

  /** Waits until the runtime removed {@code name} from {@code d} (its DESTROYED event, or it is gone). */
  @SuppressWarnings("try")
  private void awaitGone(Deployment d, String name) {
    CountDownLatch gone = new CountDownLatch(1);
    try (PodEvents.Subscription s = d.events().subscribe(e -> {
      if (e instanceof PodEvent.StateChanged c && c.instance().equals(name) && c.to() == InstanceState.DESTROYED) {
        gone.countDown();
      }
    })) {
      if (find(d, name).isEmpty()) {
        return;
      }
      if (!gone.await(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) && find(d, name).isPresent()) {
        LOG.warn("node {}: {}/{} is still here {} s after it was given up", node, d.pod().name(), name,
            STOP_TIMEOUT.toSeconds());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Optional<Instance> find(Deployment d, String name) {
    return d.instances().stream().filter(i -> i.name().equals(name) && i.state() != InstanceState.DESTROYED)
        .findFirst();
  }

  /** The local instance {@code name} ({@code UNIT-INDEX}) of {@code pod}, when this node runs it. */
  Optional<Instance> find(String pod, String name) {
    PodRuntime r = runtime;
    return r == null ? Optional.empty() : r.deployment(pod).flatMap(d -> find(d, name));
  }

  /** The pod's document in etcd, or null when the pod is not desired. One request. */
  private @Nullable Pod document(String pod) {
    String key = ClusterKeys.PODS + pod;
    GetResponse r = space.call("node '" + node + "' reading pod '" + pod + "'", () -> space.kv().get(keys.key(key)));
    if (r.getKvs().isEmpty()) {
      return null;
    }
    return PodDocuments.decode(r.getKvs().get(0).getValue().getBytes(), "etcd key " + space.prefix() + "/" + key);
  }

  /** Follows {@code d}: its events are written, each state change writes the instance's status. */
  private void follow(Deployment d) {
    String pod = d.pod().name();
    synchronized (followed) {
      if (followed.containsKey(pod)) {
        return;
      }
      followed.put(pod, d.events().subscribe(e -> {
        writer.event(pod, e);
        if (e instanceof PodEvent.StateChanged c) {
          status(d, c.instance());
        }
      }));
    }
    for (Instance i : d.instances()) {
      status(d, i.name());
    }
  }

  private void status(Deployment d, String name) {
    String pod = d.pod().name();
    Optional<Instance> i = find(d, name);
    if (i.isEmpty()) {
      addressed.remove(pod + "/" + name);
      writer.status(pod, name, null);
      return;
    }
    if (!membership.hosts(pod, name)) {
      // not (or no longer) this node's to run: being given up, or adopted after a restart while another node runs
      // it now; the status key is the instance's, and that node writes it
      return;
    }
    String pool = privatePool.get();
    if (pool != null && addressed.add(pod + "/" + name)) {
      writer.address(pod, name, new AddressRecord(pool, i.get().id()));
    }
    InstanceStatus s = i.get().status();
    Unit unit = d.pod().units().stream().filter(u -> u.name().equals(i.get().unit())).findFirst().orElse(null);
    writer.status(pod, name, new StatusRecord(node, s.state().name(), s.reason(), s.since().toEpochMilli(),
        i.get().privateAddress().getHostAddress(), i.get().publicAddress().map(a -> a.getHostAddress()).orElse(null),
        unit == null ? "" : StatusRecord.specVersion(unit), i.get().domainName()));
  }

  /** Reads the pod documents: a newer one is applied to the local deployment; a removed one's empty deployment goes. */
  void readPods() {
    PodRuntime r = runtime;
    if (r == null) {
      return;
    }
    GetResponse all = space.call("node '" + node + "' reading pod documents",
        () -> space.kv().get(keys.key(ClusterKeys.PODS), GetOption.builder().isPrefix(true).build()));
    Map<String, KeyValue> docs = new HashMap<>();
    for (KeyValue kv : all.getKvs()) {
      docs.put(keys.nameIn(ClusterKeys.PODS, kv), kv);
    }
    for (Deployment d : r.deployments()) {
      String pod = d.pod().name();
      KeyValue kv = docs.get(pod);
      if (kv == null) {
        if (membership.hosted(pod).isEmpty()) {
          applier.execute(() -> destroy(d));
        }
        continue;
      }
      Pod next = PodDocuments.decode(kv.getValue().getBytes(), "etcd key " + ClusterKeys.text(kv.getKey()));
      if (!next.equals(d.pod())) {
        applier.execute(() -> apply(d, next));
      }
    }
  }

  private void apply(Deployment d, Pod next) {
    if (next.equals(d.pod())) {
      return;
    }
    try {
      LOG.info("node {}: applies the new document of pod {}", node, next.name());
      d.plan(next).apply();
      // a live change moves no instance to another state: its status still names the old spec version
      for (Instance i : d.instances()) {
        status(d, i.name());
      }
    } catch (RuntimeException e) {
      LOG.warn("node {}: applying the new document of pod {} failed", node, next.name(), e);
    }
  }

  @Override
  public void close() {
    applier.shutdownNow();
    synchronized (followed) {
      followed.values().forEach(PodEvents.Subscription::close);
      followed.clear();
    }
  }
}
