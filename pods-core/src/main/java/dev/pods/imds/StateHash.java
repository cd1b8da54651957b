package dev.pods.imds;

import dev.pods.Script;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The cluster-state hash of an {@link InstanceView}: SHA-256 over a canonical, length-prefixed encoding of what
 * a {@code reload} block may depend on, namely the spec (version and every script block), the instance's own
 * identity and addresses, every visible unit's instances with their addresses and health, and a SHA-256 digest of
 * each field of the secrets (never a value).
 * When it changes, a reload is due.
 *
 * <p>Deliberately left out: the instance's own status, its own health in its unit's list and the
 * {@code initialized} flag (Pritunl Cloud hashes its whole config, so an instance's own status change triggers its
 * reloads; here only its peers' health does). A cryptographic hash, not CRC32:
 * two different states never share a hash in practice. Stateless and thread-safe.
 */
public final class StateHash {
  private StateHash() {}

  /** The hash of a view: 64 lower-case hex digits. */
  public static String of(InstanceView view) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    Canon c = new Canon(md);
    c.put("pods-state-v1");
    c.put(view.pod()).put(view.unit()).put(view.index()).put(view.instanceId()).put(view.hostname());
    c.put(view.specVersion());
    List<Script> scripts = view.spec().scripts();
    c.put(scripts.size());
    for (Script s : scripts) {
      c.put(s.language().id()).put(s.phase().id());
      c.put(s.timeout() == null ? "-" : Long.toString(s.timeout().toMillis()));
      c.put(s.source());
    }
    c.put(view.privateIps()).put(view.publicIps());
    c.put(view.units().size());
    for (Map.Entry<String, List<PeerInstance>> u : view.units().entrySet()) {
      c.put(u.getKey());
      List<PeerInstance> peers =
          u.getValue().stream().sorted((a, b) -> a.name().compareTo(b.name())).toList();
      c.put(peers.size());
      boolean ownUnit = u.getKey().equals(view.unit());
      for (PeerInstance p : peers) {
        boolean self = ownUnit && p.index() == view.index();
        c.put(p.name()).put(p.index()).put(p.privateIps()).put(p.publicIps())
            .put(self ? "self" : p.healthy() ? "1" : "0");
      }
    }
    c.put(view.secrets().size());
    for (Map.Entry<String, Map<String, String>> s : view.secrets().entrySet()) {
      c.put(s.getKey()).put(s.getValue().size());
      // a digest of each value, never the value itself, goes into the hash
      s.getValue().forEach((k, v) -> c.put(k).put(HexFormat.of().formatHex(sha256(v))));
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Length-prefixed fields, so that no two different sequences encode alike. */
  private static final class Canon {
    private final MessageDigest md;

    Canon(MessageDigest md) {
      this.md = md;
    }

    Canon put(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      md.update((b.length + ":").getBytes(StandardCharsets.US_ASCII));
      md.update(b);
      return this;
    }

    Canon put(int n) {
      return put("#" + n);
    }

    Canon put(List<String> list) {
      put(list.size());
      list.forEach(this::put);
      return this;
    }
  }
}
