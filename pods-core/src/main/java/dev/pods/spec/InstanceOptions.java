package dev.pods.spec;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The fields of Pritunl Cloud's {@code instance} resource that a pods host keeps but (mostly) does not act
 * on: placement in a cloud ({@code zone}, {@code node}, {@code shape}, {@code plan}), VM flags and the lists
 * of certificates and pods that Pritunl exposes through its metadata service. They are accepted so Pritunl
 * templates parse unchanged, kept so rendering gives them back, and reported as warnings by the template
 * parser when they have no effect here (see {@link #IGNORED_ON_POD_HOSTS}).
 *
 * <p>Every field is optional ({@code null} or empty when absent).
 *
 * @param zone {@code +/zone/NAME}
 * @param node {@code +/node/NAME}: no effect on a single pods host; in a cluster of nodes on etcd, pods-etcd's
 *     placement puts the unit's instances on that node only (or has them wait for it)
 * @param shape {@code +/shape/NAME}
 * @param plan {@code +/plan/NAME}
 * @param uefi boot with UEFI firmware
 * @param secureBoot UEFI secure boot
 * @param cloudType {@code linux}, {@code linux_legacy} or {@code bsd}
 * @param tpm a virtual TPM
 * @param vnc a VNC console (honoured: the domain's display on this host's loopback with a generated password, and
 *     port 5900 of the public address kept back for it; see {@link dev.pods.Instance#console()})
 * @param gui a graphical console
 * @param deleteProtection refuse to destroy the instance
 * @param skipSourceDestCheck allow traffic not addressed to the instance
 * @param dhcpServer run a DHCP server for the instance
 * @param hostAddress give the instance a host-network address
 * @param publicAddress6 give the instance a public IPv6 address
 * @param certificates {@code +/certificate/NAME} references
 * @param pods {@code +/pod/NAME} references whose units the instance may query
 * @param failover {@code primary} or absent
 */
public record InstanceOptions(
    @Nullable Reference zone,
    @Nullable Reference node,
    @Nullable Reference shape,
    @Nullable Reference plan,
    @Nullable Boolean uefi,
    @Nullable Boolean secureBoot,
    @Nullable String cloudType,
    @Nullable Boolean tpm,
    @Nullable Boolean vnc,
    @Nullable Boolean gui,
    @Nullable Boolean deleteProtection,
    @Nullable Boolean skipSourceDestCheck,
    @Nullable Boolean dhcpServer,
    @Nullable Boolean hostAddress,
    @Nullable Boolean publicAddress6,
    List<Reference> certificates,
    List<Reference> pods,
    @Nullable String failover) {

  /** No option set. */
  public static final InstanceOptions NONE =
      new InstanceOptions(
          null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, List.of(),
          List.of(), null);

  /** The template keys of the options that have no effect on a pods host (a warning when present). */
  public static final Set<String> IGNORED_ON_POD_HOSTS =
      Set.of(
          "zone", "node", "shape", "plan", "uefi", "secureBoot", "cloudType", "tpm", "gui", "deleteProtection",
          "skipSourceDestCheck", "dhcpServer", "hostAddress", "publicAddress6", "certificates", "pods",
          "failover");

  /** Validates kinds and values. */
  public InstanceOptions {
    requireKind("zone", zone);
    requireKind("node", node);
    requireKind("shape", shape);
    requireKind("plan", plan);
    certificates = List.copyOf(Objects.requireNonNull(certificates, "certificates"));
    pods = List.copyOf(Objects.requireNonNull(pods, "pods"));
    certificates.forEach(r -> requireKind("certificate", r));
    pods.forEach(r -> requireKind("pod", r));
    if (cloudType != null && !Set.of("linux", "linux_legacy", "bsd").contains(cloudType)) {
      throw new IllegalArgumentException("cloudType is linux, linux_legacy or bsd, not '" + cloudType + "'");
    }
    if (failover != null && !failover.equals("primary")) {
      throw new IllegalArgumentException("failover is 'primary' or absent, not '" + failover + "'");
    }
  }

  private static void requireKind(String kind, @Nullable Reference r) {
    if (r != null && !r.kind().equals(kind)) {
      throw new IllegalArgumentException("expected a +/" + kind + "/NAME reference, not '" + r + "'");
    }
  }

  /** Whether no option is set. */
  public boolean isEmpty() {
    return equals(NONE);
  }
}
