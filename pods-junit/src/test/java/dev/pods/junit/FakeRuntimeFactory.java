package dev.pods.junit;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodRuntime;
import dev.pods.testing.DirectoryInstanceFiles;
import dev.pods.testing.InMemoryHypervisor;
import dev.pods.spi.ForwardingNetworkDriver;
import dev.pods.testing.InMemoryNetworkDriver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import com.sun.net.httpserver.HttpServer;
import dev.pods.spi.NetworkDriver;
import dev.pods.spi.NetworkTask;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PodRuntimeFactory} on the in-memory fakes: {@link InMemoryHypervisor}, {@link InMemoryNetworkDriver},
 * {@link DirectoryInstanceFiles} in a temporary folder, the real runtime and real metadata services on loopback, and
 * a {@link StandInAgent} per instance that plays its first boot once the instance is booting. Every run it makes is
 * kept in {@link #RUNS} so tests can check, after the engine finished, what was left.
 */
class FakeRuntimeFactory implements PodRuntimeFactory {
  private static final Logger LOG = LoggerFactory.getLogger(FakeRuntimeFactory.class);
  /** The runs made since the last {@code clear()}, in order. */
  static final List<FakeRun> RUNS = new CopyOnWriteArrayList<>();

  FakeRuntimeFactory() {}

  @Override
  public PodRuntime create() {
    try {
      FakeRun r = new FakeRun(Files.createTempDirectory("pods-junit-fake-"));
      RUNS.add(r);
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A factory that says the host lacks things; its runtime is never made. */
  static final class Unavailable extends FakeRuntimeFactory {
    Unavailable() {}

    @Override
    public java.util.Optional<String> unavailableReason() {
      return java.util.Optional.of("missing root (CAP_NET_ADMIN); qemu-system-x86_64 (Debian package qemu-system)");
    }

    @Override
    public PodRuntime create() {
      throw new AssertionError("an unavailable factory must not be asked for a runtime");
    }
  }

  /**
   * The in-memory driver, noting the address of every HTTP server bound "in a namespace" (the runtime binds each
   * metadata service that way, on an ephemeral loopback port here), so the stand-in agent can reach it.
   */
  static final class ListenerRecorder extends ForwardingNetworkDriver {
    private final Map<String, InetSocketAddress> listeners;

    ListenerRecorder(NetworkDriver d, Map<String, InetSocketAddress> listeners) {
      super(d);
      this.listeners = listeners;
    }

    @Override
    public <T> T callInNamespace(String instanceId, NetworkTask<T> task) {
      T result = super.callInNamespace(instanceId, task);
      if (result instanceof HttpServer h) {
        listeners.put(instanceId, h.getAddress());
      }
      return result;
    }

    @Override
    public void delete(String instanceId) {
      listeners.remove(instanceId);
      super.delete(instanceId);
    }
  }

  /** One fake run: the fakes, the runtime on them, and the stand-in agents. */
  static final class FakeRun implements PodRuntime {
    static final InetSocketAddress METADATA = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    final Path dir;
    final InMemoryHypervisor hv = InMemoryHypervisor.create();
    final InMemoryNetworkDriver net = new InMemoryNetworkDriver();
    /** Where each instance's metadata service listens, by instance id (seen as the runtime binds it). */
    final Map<String, InetSocketAddress> listeners = new ConcurrentHashMap<>();
    final DirectoryInstanceFiles files;
    final PodRuntime runtime;
    final List<Deployment> deployed = new CopyOnWriteArrayList<>();
    final List<Throwable> agentFailures = new CopyOnWriteArrayList<>();
    private final Set<String> booted = ConcurrentHashMap.newKeySet();
    volatile boolean closed;

    FakeRun(Path dir) throws IOException {
      this.dir = dir;
      this.files = new DirectoryInstanceFiles(dir.resolve("instances"));
      BootImage image = BootImage.kernel(Files.writeString(dir.resolve("vmlinuz"), "k"),
          Files.writeString(dir.resolve("initrd"), "i"), "console=ttyS0");
      this.runtime = PodRuntime.builder()
          .hypervisor(hv)
          .networkDriver(new ListenerRecorder(net, listeners))
          .instanceFiles(files)
          .images(name -> image)
          .stateDir(dir.resolve("state"))
          .namePrefix("fk-")
          .metadataAddress(METADATA)
          .build();
    }

    @Override
    public Deployment deploy(Pod pod) {
      Deployment d = runtime.deploy(pod);
      deployed.add(d);
      d.events().subscribe(e -> {
        if (e instanceof PodEvent.StateChanged s && s.to() == InstanceState.BOOTING) {
          boot(d, s.instance());
        }
      });
      // instances that were booting before the subscription
      for (Instance i : d.instances()) {
        if (i.state() == InstanceState.BOOTING) {
          boot(d, i.name());
        }
      }
      return d;
    }

    private void boot(Deployment d, String instanceName) {
      Instance i = d.instances().stream().filter(x -> x.name().equals(instanceName)).findFirst().orElseThrow();
      if (!booted.add(i.domainName())) {
        return;
      }
      Thread t = new Thread(() -> {
        try {
          InetSocketAddress listener = listeners.get(i.id());
          if (listener == null) {
            throw new IllegalStateException("no metadata service was bound for " + i.id());
          }
          new StandInAgent(listener, i, files.dir(i.domainName()).resolve("seed/pods-agent.conf")).firstBoot();
        } catch (IOException | RuntimeException e) {
          // a deployment destroyed while its agent talks (a failed sibling, a test that ended) closes the metadata
          // service under it: that is no failure of the agent
          long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
          while (i.state() != InstanceState.DESTROYED && System.nanoTime() < end) {
            Thread.onSpinWait();
          }
          if (i.state() != InstanceState.DESTROYED) {
            LOG.warn("stand-in agent of {} failed", i.domainName(), e);
            agentFailures.add(e);
          }
        }
      }, "stand-in-agent-" + i.domainName());
      t.setDaemon(true);
      t.start();
    }

    @Override
    public List<Deployment> deployments() {
      return runtime.deployments();
    }

    @Override
    public java.util.Optional<Deployment> deployment(String pod) {
      return runtime.deployment(pod);
    }

    @Override
    public String owner() {
      return runtime.owner();
    }

    @Override
    public dev.pods.Disks disks() {
      return runtime.disks();
    }

    @Override
    public void close() {
      closed = true;
      runtime.close();
    }

    /** Whether the run left nothing: no domain, network, instance folder or deployment. */
    List<String> leftovers() throws IOException {
      List<String> out = new CopyOnWriteArrayList<>();
      hv.domainNames().forEach(n -> out.add("domain " + n));
      net.list(runtime.owner()).forEach(n -> out.add("network " + n.instanceId()));
      try (Stream<Path> s = Files.list(dir.resolve("instances"))) {
        s.forEach(p -> out.add("files " + p.getFileName()));
      } catch (java.nio.file.NoSuchFileException e) {
        // never created
      }
      runtime.deployments().forEach(d -> out.add("deployment " + d.pod().name()));
      return out;
    }

    void delete() throws IOException {
      hv.close();
      net.close();
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
