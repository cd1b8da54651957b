package dev.pods.junit;

import dev.pods.Deployment;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.ReflectionSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime of one {@link PodRuntimeFactory} class for one test run, kept in the root context's store: asks the
 * factory whether it can run (once), makes the runtime on first use (once; a failure is kept and rethrown to every
 * later user, so a broken host costs one attempt), hands out unique pod names, and at the end of the run destroys
 * the deployments still alive and closes the runtime. A JVM shutdown hook does the same when the JVM is told to
 * stop before the run ends. Thread-safe; the factory runs under a lock (a {@link ReentrantLock}, not a monitor).
 */
final class RunRuntime implements ExtensionContext.Store.CloseableResource {
  private static final Logger LOG = LoggerFactory.getLogger(RunRuntime.class);

  private final Class<? extends PodRuntimeFactory> type;
  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicInteger deployments = new AtomicInteger();
  private @Nullable PodRuntimeFactory factory;
  private @Nullable Optional<String> unavailable;
  private @Nullable PodRuntime runtime;
  private @Nullable RuntimeException failure;
  private volatile @Nullable Thread hook;
  private boolean closed;

  RunRuntime(Class<? extends PodRuntimeFactory> type) {
    this.type = type;
  }

  private PodRuntimeFactory factory() {
    if (factory == null) {
      try {
        factory = ReflectionSupport.newInstance(type);
      } catch (RuntimeException e) {
        throw new ExtensionConfigurationException("cannot instantiate the pod runtime factory " + type.getName()
            + " (it needs a no-argument constructor): " + e, e);
      }
    }
    return factory;
  }

  /** The factory's reason, asked once. */
  Optional<String> unavailableReason() {
    lock.lock();
    try {
      if (unavailable == null) {
        unavailable = factory().unavailableReason();
      }
      return unavailable;
    } finally {
      lock.unlock();
    }
  }

  /** The runtime, made on the first call. */
  PodRuntime runtime() {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("the test run's pod runtime is closed");
      }
      if (failure != null) {
        throw new PodsException("the pod runtime of " + type.getSimpleName() + " could not be made: "
            + failure.getMessage(), failure);
      }
      if (runtime == null) {
        try {
          runtime = factory().create();
        } catch (RuntimeException e) {
          failure = e;
          throw e;
        }
        PodRuntime r = runtime;
        // on SIGTERM or System.exit before the run ends: the same as the end of the run (a SIGKILL leaves the
        // leftovers to the next run's reaping)
        Thread h = new Thread(this::close, "pods-junit-shutdown");
        Runtime.getRuntime().addShutdownHook(h);
        hook = h;
        LOG.info("pod runtime of {} ready, owner {}", type.getSimpleName(), r.owner());
      }
      return runtime;
    } finally {
      lock.unlock();
    }
  }

  /** {@code <name>-<n>}, a DNS label, {@code n} unique in this run. */
  String uniqueName(String name) {
    String suffix = "-" + deployments.incrementAndGet();
    String base = name.length() + suffix.length() > 63 ? name.substring(0, 63 - suffix.length()) : name;
    return base.replaceAll("-+$", "") + suffix;
  }

  @Override
  public void close() {
    PodRuntime r;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      r = runtime;
      Thread h = hook;
      if (h != null && Thread.currentThread() != h) {
        try {
          Runtime.getRuntime().removeShutdownHook(h);
        } catch (IllegalStateException e) {
          // the JVM is shutting down: the hook runs anyway
        }
      }
    } finally {
      lock.unlock();
    }
    if (r != null) {
      try {
        destroyAll(r, Thread.currentThread() == hook ? "JVM shutdown" : "end of the test run");
      } finally {
        r.close();
      }
    }
  }

  /** Destroys what is still deployed (what tests deployed themselves and left); throws the first failure. */
  private static void destroyAll(PodRuntime r, String why) {
    RuntimeException first = null;
    for (Deployment d : r.deployments()) {
      LOG.info("destroying pod {} left at the {}", d.pod().name(), why);
      try {
        d.destroy();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
