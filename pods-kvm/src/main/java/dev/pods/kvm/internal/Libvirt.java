package dev.pods.kvm.internal;

import dev.pods.BackendException;
import org.jspecify.annotations.Nullable;
import org.libvirt.LibvirtException;

/** Turns libvirt's checked exceptions into {@link BackendException}s. Stateless, thread-safe. */
public final class Libvirt {
  /** libvirt's {@code VIR_ERR_NO_DOMAIN}. */
  public static final int NO_DOMAIN = 42;
  /** libvirt's {@code VIR_ERR_OPERATION_INVALID} (e.g. destroying a stopped domain). */
  public static final int OPERATION_INVALID = 55;
  /** libvirt's {@code VIR_ERR_NO_SUPPORT}. */
  public static final int NO_SUPPORT = 3;
  /** libvirt's {@code VIR_ERR_DOM_EXIST}. */
  public static final int DOM_EXIST = 28;
  /** libvirt's {@code VIR_ERR_OPERATION_FAILED}. */
  public static final int OPERATION_FAILED = 9;
  /** libvirt's {@code VIR_ERR_NO_KERNEL}. */
  public static final int NO_KERNEL = 17;

  private Libvirt() {}

  /** libvirt's error number of {@code e} ({@code virErrorNumber}), or -1. */
  public static int code(LibvirtException e) {
    org.libvirt.Error err = e.getError();
    return err == null || err.getCode() == null ? -1 : err.getCode().ordinal();
  }

  /** The exception as a {@link BackendException} with operation, domain and libvirt's code and text. */
  public static BackendException wrap(String operation, @Nullable String domain, LibvirtException e) {
    org.libvirt.Error err = e.getError();
    String text = err != null && err.getMessage() != null ? err.getMessage() : String.valueOf(e.getMessage());
    return new BackendException(operation, domain, code(e), text, e);
  }

  /** A libvirt call that may throw its checked exception. */
  @FunctionalInterface
  public interface Call<T> {
    /** Runs the call. */
    T run() throws LibvirtException;
  }
}
