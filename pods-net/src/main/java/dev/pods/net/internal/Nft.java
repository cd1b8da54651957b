package dev.pods.net.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads an nftables program in the calling thread's network namespace: in-process through libnftables (JNA) when
 * the library is there, else with {@code nft -f -}. Either way the whole program is one transaction. Stateless and
 * thread-safe (each call has its own libnftables context).
 */
public final class Nft {
  private static final Logger LOG = LoggerFactory.getLogger(Nft.class);

  private Nft() {}

  /** The libnftables functions used. */
  interface LibNftables extends Library {
    Pointer nft_ctx_new(int flags);

    void nft_ctx_free(Pointer ctx);

    int nft_ctx_buffer_output(Pointer ctx);

    int nft_ctx_buffer_error(Pointer ctx);

    String nft_ctx_get_error_buffer(Pointer ctx);

    String nft_ctx_get_output_buffer(Pointer ctx);

    int nft_run_cmd_from_buffer(Pointer ctx, String buf);
  }

  private static final class Holder {
    static final @Nullable LibNftables LIB = load();

    private static @Nullable LibNftables load() {
      for (String name : List.of("nftables", "libnftables.so.1")) {
        try {
          return Native.load(name, LibNftables.class);
        } catch (UnsatisfiedLinkError e) {
          // try the next name, then fall back to the command
        }
      }
      return null;
    }
  }

  /** Whether libnftables could be loaded. */
  public static boolean inProcess() {
    return Holder.LIB != null;
  }

  /**
   * Runs {@code program} in the calling thread's namespace.
   *
   * @param nftCommand the command to use when libnftables is missing or {@code useLibrary} is false
   */
  public static void run(String program, boolean useLibrary, String nftCommand, Duration timeout)
      throws IOException {
    LibNftables lib = Holder.LIB;
    if (!useLibrary || lib == null) {
      Exec.check(List.of(nftCommand, "-f", "-"), program, timeout);
      return;
    }
    LOG.debug("libnftables program:\n{}", program);
    Pointer ctx = lib.nft_ctx_new(0);
    if (ctx == null) {
      throw new IOException("nft_ctx_new failed");
    }
    try {
      lib.nft_ctx_buffer_output(ctx);
      lib.nft_ctx_buffer_error(ctx);
      if (lib.nft_run_cmd_from_buffer(ctx, program) != 0) {
        String err = lib.nft_ctx_get_error_buffer(ctx);
        throw new IOException("nft program failed: " + (err == null ? "" : err.strip()));
      }
    } finally {
      lib.nft_ctx_free(ctx);
    }
  }

  /**
   * Runs {@code command} (e.g. {@code list counter ip T NAME}) in the calling thread's namespace and returns what it
   * printed.
   *
   * @param nftCommand the command to use when libnftables is missing or {@code useLibrary} is false
   */
  public static String output(String command, boolean useLibrary, String nftCommand, Duration timeout)
      throws IOException {
    LibNftables lib = Holder.LIB;
    if (!useLibrary || lib == null) {
      return Exec.check(List.of(nftCommand, "-f", "-"), command, timeout).stdout();
    }
    Pointer ctx = lib.nft_ctx_new(0);
    if (ctx == null) {
      throw new IOException("nft_ctx_new failed");
    }
    try {
      lib.nft_ctx_buffer_output(ctx);
      lib.nft_ctx_buffer_error(ctx);
      if (lib.nft_run_cmd_from_buffer(ctx, command) != 0) {
        String err = lib.nft_ctx_get_error_buffer(ctx);
        throw new IOException("nft " + command + " failed: " + (err == null ? "" : err.strip()));
      }
      String out = lib.nft_ctx_get_output_buffer(ctx);
      return out == null ? "" : out;
    } finally {
      lib.nft_ctx_free(ctx);
    }
  }
}
