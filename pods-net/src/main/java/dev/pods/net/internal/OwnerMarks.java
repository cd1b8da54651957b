package dev.pods.net.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;

/**
 * Each instance namespace carries its owner's mark: the alias of its loopback link is {@code pods-owner:} and the
 * SHA-256 of the owner label (an alias is short). A namespace of the driver's prefix without a record is removed by
 * a reap only when it carries the reaping owner's mark, so drivers with the same prefix and different state folders
 * never remove each other's networks. Thread-safe; calls block on {@code ip}.
 */
public final class OwnerMarks {
  private final IpCommands ip;

  /** Reads and writes marks with {@code ip}. */
  public OwnerMarks(IpCommands ip) {
    this.ip = ip;
  }

  /** The mark of {@code owner}. */
  public static String of(String owner) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(owner.getBytes(StandardCharsets.UTF_8));
      return "pods-owner:" + HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  /** Marks {@code namespace} as {@code owner}'s. */
  public void mark(String namespace, String owner) throws IOException {
    ip.check("-n", namespace, "link", "set", "dev", "lo", "alias", of(owner));
  }

  /** The mark of {@code namespace}, or null when it has none (or cannot be read). */
  public @Nullable String markOf(String namespace) throws IOException {
    Exec.Result r = ip.run("-n", namespace, "-j", "link", "show", "dev", "lo");
    if (r.exitCode() != 0) {
      return null;
    }
    return IpJson.linkAlias(r.stdout());
  }

  /** Whether {@code namespace} carries {@code owner}'s mark. */
  public boolean isOwners(String namespace, String owner) throws IOException {
    return of(owner).equals(markOf(namespace));
  }
}
