package dev.pods.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pods.ConflictException;
import dev.pods.Deployment;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The runtime behind {@link PodRuntime#builder()}. */
public final class DefaultPodRuntime implements PodRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultPodRuntime.class);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final RuntimeSettings s;
  private final @Nullable ExecutorService ownExecutor;
  private final java.util.concurrent.Executor executor;
  private final Path deploymentsDir;
  private final FileChannel lockChannel;
  private final Map<String, DefaultDeployment> deployments = new LinkedHashMap<>();
  private volatile boolean closed;

  private DefaultPodRuntime(RuntimeSettings s, Path deploymentsDir, FileChannel lockChannel) {
    this.s = s;
    this.deploymentsDir = deploymentsDir;
    this.lockChannel = lockChannel;
    if (s.executor() == null) {
      ownExecutor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pods-runtime-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
      executor = ownExecutor;
    } else {
      ownExecutor = null;
      executor = s.executor();
    }
  }

  /** Creates the state folder, takes its lock and makes the runtime. */
  public static PodRuntime start(RuntimeSettings s) {
    Path dir = s.stateDir().resolve("deployments");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new PodsException("cannot create the state folder " + dir, e);
    }
    return new DefaultPodRuntime(s, dir, lock(s.stateDir()));
  }

  /**
   * Takes {@code <state>/runtime.lock} (an advisory lock the kernel drops when the process dies, so a crashed runtime
   * never blocks the next one) and writes this process's pid into it.
   */
  static FileChannel lock(Path stateDir) {
    Path f = stateDir.resolve("runtime.lock");
    FileChannel ch;
    try {
      ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new PodsException("cannot open the state folder's lock " + f, e);
    }
    try {
      java.nio.channels.FileLock l;
      try {
        l = ch.tryLock();
      } catch (java.nio.channels.OverlappingFileLockException e) {
        throw new ConflictException("the state folder " + stateDir + " is used by another runtime (in this process, "
            + ProcessHandle.current().pid() + "); close it first or use another state folder");
      }
      if (l == null) {
        String holder = Files.readString(f).strip();
        throw new ConflictException("the state folder " + stateDir + " is used by another runtime"
            + (holder.isEmpty() ? "" : " (process " + holder + ")") + "; close it first or use another state folder");
      }
      ch.truncate(0);
      ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
      ch.force(false);
      return ch;
    } catch (IOException | RuntimeException e) {
      try {
        ch.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new PodsException("cannot lock the state folder " + stateDir, e);
    }
  }

  boolean isClosed() {
    return closed;
  }

  @Override
  public String owner() {
    return s.owner();
  }

  @Override
  public Deployment deploy(Pod pod) {
    Objects.requireNonNull(pod, "pod");
    IpAddressPool priv = s.networkDriver().pool(IpPoolSpec.subnets(
        "priv-" + slug(s.privateRange().toString(), 30), s.privateRange(), 30));
    IpAddressPool pub = s.publicNetwork() == null ? null : s.networkDriver().pool(IpPoolSpec.addresses(
        "pub-" + slug(s.publicNetwork().range().toString(), 30), s.publicNetwork().range(),
        s.publicNetwork().gateway()));
    DefaultDeployment d = new DefaultDeployment(this, s, pod, priv, pub);
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the runtime is closed");
      }
      if (deployments.containsKey(pod.name())) {
        throw new IllegalStateException("pod " + pod.name() + " is already deployed");
      }
      deployments.put(pod.name(), d);
    }
    List<String> allocated = new ArrayList<>();
    try {
      for (Unit u : pod.units()) {
        if (u.publicAddress() && pub == null) {
          throw new PodsException("unit " + u.name() + " of pod " + pod.name()
              + " wants a public address, but the runtime has no public network");
        }
        for (int i = 0; i < u.count(); i++) {
          String id = instanceId(pod.name(), u.name(), i);
          allocated.add(id);
          Cidr subnet = priv.allocate(id);
          Inet4Address pa = u.publicAddress() ? Objects.requireNonNull(pub).allocate(id).network() : null;
          d.add(new DefaultInstance(d, u, i, id, s.namePrefix() + id, subnet, pa));
        }
      }
      writeState(pod.name(), d.record());
    } catch (RuntimeException e) {
      for (String id : allocated) {
        priv.release(id);
        if (pub != null) {
          pub.release(id);
        }
      }
      forget(d);
      throw e;
    }
    LOG.info("pod {}: {} instances scheduled", pod.name(), d.instanceList().size());
    d.startAll(executor);
    return d;
  }

  /** The executor instances are built on. */
  java.util.concurrent.Executor executor() {
    return executor;
  }

  /** Rewrites the state file of {@code d} (after a migration changed it). */
  void saveState(DefaultDeployment d) {
    writeState(d.pod().name(), d.record());
  }

  /** A deployment was destroyed (or never made it): drop it and its state file. */
  void forget(DefaultDeployment d) {
    synchronized (this) {
      deployments.remove(d.pod().name(), d);
    }
    try {
      Files.deleteIfExists(stateFile(d.pod().name()));
    } catch (IOException e) {
      throw new PodsException("cannot delete the state file of pod " + d.pod().name(), e);
    }
  }

  private Path stateFile(String pod) {
    return deploymentsDir.resolve(slug(pod, 60) + "-" + sha256(pod).substring(0, 8) + ".json");
  }

  /** Atomic: a temporary file, fsync, rename. */
  private void writeState(String pod, Map<String, Object> record) {
    Path f = stateFile(pod);
    Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
    try {
      byte[] bytes = JSON.writeValueAsBytes(record);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(java.nio.ByteBuffer.wrap(bytes));
        ch.force(true);
      }
      Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new PodsException("cannot write the state file " + f, e);
    }
  }

  @Override
  public synchronized List<Deployment> deployments() {
    return List.copyOf(deployments.values());
  }

  @Override
  public void close() {
    List<DefaultDeployment> ds;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      ds = List.copyOf(deployments.values());
    }
    if (ownExecutor != null) {
      ownExecutor.shutdown();
      try {
        if (!ownExecutor.awaitTermination(60, TimeUnit.SECONDS)) {
          ownExecutor.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        ownExecutor.shutdownNow();
      }
    }
    ds.forEach(DefaultDeployment::detach);
    for (AutoCloseable c : s.owned()) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("runtime close: cannot close {}", c, e);
      }
    }
    try {
      lockChannel.close();
    } catch (IOException e) {
      LOG.warn("runtime close: cannot release the state folder's lock", e);
    }
    LOG.info("runtime closed; {} deployments left running", ds.size());
  }

  /** {@code <pod>-<unit>-<index>} made a valid network instance id (lower case, digits, '-', at most 40). */
  static String instanceId(String pod, String unit, int index) {
    String raw = pod + "-" + unit + "-" + index;
    String id = slug(raw, 40);
    if (!id.equals(raw)) {
      String suffix = "-" + sha256(raw).substring(0, 6) + "-" + index;
      id = slug(raw.substring(0, raw.lastIndexOf('-')), 40 - suffix.length()) + suffix;
    }
    return id;
  }

  /** Lower case letters, digits and '-', no leading or trailing '-', at most {@code max} characters. */
  static String slug(String text, int max) {
    String t = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-");
    if (t.length() > max) {
      t = t.substring(0, max);
    }
    t = t.replaceAll("^-+|-+$", "");
    return t.isEmpty() ? "x" : t;
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
