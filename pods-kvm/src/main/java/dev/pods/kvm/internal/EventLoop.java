package dev.pods.kvm.internal;

import dev.pods.BackendException;
import java.util.concurrent.atomic.AtomicInteger;
import org.libvirt.Connect;
import org.libvirt.ErrorCallback;
import org.libvirt.Library;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libvirt's default event loop, run on one daemon thread for the whole process ({@code pods-libvirt-events-1}).
 *
 * <p>libvirt has a single event implementation per process and it must be registered before the first
 * connection is opened, so {@link #ensureRunning()} is called by every connection factory. It is never stopped:
 * the thread is a daemon and holds no resources beyond libvirt's own. Thread-safe and idempotent.
 */
public final class EventLoop {
  private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static boolean started;
  /**
   * Must stay strongly reachable: libvirt keeps the native function pointer, and if JNA's callback object were
   * collected its trampoline could be reused by another callback (we saw the JVM crash in a lifecycle callback
   * invoked with an error callback's arguments).
   */
  private static final ErrorCallback SILENT_ERRORS = new ErrorCallback();

  private EventLoop() {}

  /** Registers libvirt's default event implementation and starts the loop thread, once per process. */
  public static synchronized void ensureRunning() {
    if (started) {
      return;
    }
    try {
      // A no-op error callback stops libvirt from printing every error on stderr; we report them ourselves.
      Connect.setErrorCallback(SILENT_ERRORS);
      Library.initEventLoop();
    } catch (LibvirtException e) {
      throw Libvirt.wrap("initEventLoop", null, e);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      throw new BackendException("initEventLoop", null, -1, "libvirt is not installed (libvirt.so.0): " + e, e);
    }
    Thread t = new Thread(EventLoop::run, "pods-libvirt-events-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    t.start();
    started = true;
  }

  private static void run() {
    while (true) {
      try {
        Library.runEventLoop();
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (LibvirtException | RuntimeException e) {
        LOG.warn("libvirt event loop iteration failed; continuing", e);
      }
    }
  }
}
