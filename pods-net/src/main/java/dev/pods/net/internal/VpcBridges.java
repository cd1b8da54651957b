package dev.pods.net.internal;

import dev.pods.internal.LockFile;
import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkVpc;
import dev.pods.spi.VpcFabric;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host-namespace side of instance networks, where the VPC bridges are shared: an instance's veths to the uplink
 * and VPC bridges are attached and removed here, and a VPC's bridge (and its link index) is made with its first
 * member and removed with its last. The members of a VPC are the records of the state folder that name it; every
 * change of membership happens under one file lock ({@code vpc.lock}), so several drivers on one state folder
 * agree.
 *
 * <p>Thread-safe and safe across processes; every call blocks on the lock and on {@code ip}.
 */
public final class VpcBridges {
  private static final Logger LOG = LoggerFactory.getLogger(VpcBridges.class);

  private final Path lock;
  private final RecordStore records;
  private final LinkIndexes indexes;
  private final IpCommands ip;
  private final @Nullable Vxlans fabric;
  private final String linkPrefix;
  private final NftRunner nft;

  /** Loads an nftables program in the calling thread's namespace. */
  @FunctionalInterface
  public interface NftRunner {
    /** Loads {@code program} as one transaction. */
    void run(String program) throws Exception;
  }

  /** The VPC bridges of the state folder {@code stateDir}, whose records are {@code records}. */
  public VpcBridges(Path stateDir, RecordStore records, LinkIndexes indexes, IpCommands ip) {
    this(stateDir, records, indexes, ip, null, "", program -> {
      throw new IllegalStateException("no fabric, no nftables program");
    });
  }

  /**
   * The same, with each VPC bridge joined to the fabric {@code fabric} by a VXLAN link (null: no fabric); link names
   * start with {@code linkPrefix}; {@code nft} loads the fabric's guard ({@link Vxlans#guardProgram}), table
   * {@code <linkPrefix>fabric} of the host namespace, kept to the VNIs of the VXLAN links this state folder has.
   */
  public VpcBridges(Path stateDir, RecordStore records, LinkIndexes indexes, IpCommands ip, @Nullable Vxlans fabric,
      String linkPrefix, NftRunner nft) {
    this.nft = nft;
    this.lock = stateDir.resolve("vpc.lock");
    this.records = records;
    this.indexes = indexes;
    this.ip = ip;
    this.fabric = fabric;
    this.linkPrefix = linkPrefix;
  }

  /** The MTU of the VPC side of {@code spec}'s network (the fabric's, for a VPC with a fabric), or 0: the default. */
  public int mtu(NetworkSpec spec) {
    return fabric != null && spec.vpc() != null ? fabric.mtu() : 0;
  }

  /**
   * Checks, before anything is built, that {@code spec}'s VPC can join the fabric: its host namespace is the
   * fabric's, and no other VPC of this state folder has its VXLAN identifier.
   *
   * @param op the operation, for the message ("create", "update")
   * @throws dev.pods.NetworkException naming what is wrong
   */
  public void checkFabric(NetworkSpec spec, String op) {
    NetworkVpc vpc = spec.vpc();
    if (fabric == null || vpc == null) {
      return;
    }
    if (!Objects.equals(fabric.hostNamespace(), spec.hostNamespace())) {
      throw new dev.pods.NetworkException(op + " network of instance '" + spec.instanceId() + "' failed: its VPC '"
          + vpc.id() + "' is in host namespace " + spec.hostNamespace() + " and the fabric in "
          + fabric.hostNamespace());
    }
    int vni = VpcFabric.vni(vpc.id());
    for (InstanceRecord r : records.readAllUnchecked()) {
      NetworkVpc other = r.spec().vpc();
      if (other != null && !other.id().equals(vpc.id()) && VpcFabric.vni(other.id()) == vni) {
        throw new dev.pods.NetworkException(op + " network of instance '" + spec.instanceId() + "' failed: VPC '"
            + vpc.id() + "' and VPC '" + other.id() + "' (instance '" + r.id() + "') have one VXLAN identifier, "
            + vni + ": rename one");
      }
    }
  }

  /**
   * Gives every VXLAN link of this state folder's VPCs the fabric's current peers; nothing without a fabric.
   *
   * @return the VXLAN links synchronised
   */
  public List<String> syncPeers() throws Exception {
    Vxlans f = fabric;
    if (f == null) {
      return List.of();
    }
    return LockFile.with(lock, () -> Netns.call(f.hostNamespace() == null ? null : Netns.path(f.hostNamespace()),
        () -> {
          List<String> done = new ArrayList<>();
          java.util.Set<Long> seen = new java.util.HashSet<>();
          for (InstanceRecord r : records.readAllUnchecked()) {
            if (r.spec().vpc() != null && r.vpcIndex() >= 0 && seen.add(r.vpcIndex())) {
              String vx = Vxlans.name(linkPrefix, r.vpcIndex());
              if (IpCommands.linkExists(vx)) {
                f.sync(vx);
                done.add(vx);
              }
            }
          }
          guard(f);
          return done;
        }));
  }

  /**
   * Makes the fabric's guard in the calling thread's namespace (the host namespace) cover the VNIs of the VXLAN links
   * of this state folder that exist now; with none left, removes it. Called holding the VPC lock.
   */
  private void guard(Vxlans f) throws Exception {
    java.util.Set<Integer> vnis = new java.util.TreeSet<>();
    for (InstanceRecord r : records.readAllUnchecked()) {
      NetworkVpc vpc = r.spec().vpc();
      if (vpc != null && r.vpcIndex() >= 0 && IpCommands.linkExists(Vxlans.name(linkPrefix, r.vpcIndex()))) {
        vnis.add(VpcFabric.vni(vpc.id()));
      }
    }
    nft.run(f.guardProgram(guardTable(), vnis));
  }

  /**
   * What is missing or broken of the fabric side of {@code r}'s VPC, in words; empty when whole, or when this driver
   * has no fabric or {@code r} no VPC: its VPC's VXLAN link exists, is a port of the VPC's bridge and up, its
   * all-zeros forwarding entries go to exactly the fabric's current peers, and the guard table exists. Reads over
   * netlink ({@link NetlinkReads}: three or four requests, no process, no lock), on one short-lived thread in the
   * fabric's host namespace when that is a named one.
   */
  public List<String> fabricDefects(InstanceRecord r) throws Exception {
    Vxlans f = fabric;
    if (f == null || r.spec().vpc() == null) {
      return List.of();
    }
    return Netns.call(fabricNs(f), () -> fabricDefectsHere(r));
  }

  /**
   * {@link #fabricDefects}, read in the calling thread's namespace, which must be the fabric's host namespace
   * ({@link #fabricNamespace}).
   */
  public List<String> fabricDefectsHere(InstanceRecord r) throws IOException {
    Vxlans f = fabric;
    if (f == null || r.spec().vpc() == null || r.vpcIndex() < 0 || r.names().vpcBridge() == null) {
      return List.of();
    }
    return defects(f, Vxlans.name(linkPrefix, r.vpcIndex()), Objects.requireNonNull(r.names().vpcBridge())).words();
  }

  /** Whether this driver has a fabric. */
  public boolean hasFabric() {
    return fabric != null;
  }

  /** The path of the fabric's host namespace (null: the JVM's, or no fabric). */
  public @Nullable Path fabricNamespace() {
    Vxlans f = fabric;
    return f == null ? null : fabricNs(f);
  }

  /**
   * Mends the fabric side of {@code r}'s VPC where {@link #fabricDefects} finds it broken, under the VPC lock: a
   * VPC bridge that is gone is made again with this state folder's members of the VPC on it; a VXLAN link that is gone
   * is made again on it; a VXLAN link off its bridge or down is put back and up; its forwarding entries are set to
   * the current peers; the guard is loaded again. Nothing is done (and no process started) when it is whole.
   *
   * @return what was found broken and mended, in words; empty when the fabric side was whole
   */
  public List<String> mendFabric(InstanceRecord r) throws Exception {
    Vxlans f = fabric;
    NetworkVpc vpc = r.spec().vpc();
    if (f == null || vpc == null || r.vpcIndex() < 0 || r.names().vpcBridge() == null) {
      return List.of();
    }
    String vx = Vxlans.name(linkPrefix, r.vpcIndex());
    String vpcBridge = Objects.requireNonNull(r.names().vpcBridge());
    return LockFile.with(lock, () -> Netns.call(fabricNs(f), () -> {
      Defects d = defects(f, vx, vpcBridge);
      if (d.words().isEmpty()) {
        return List.<String>of();
      }
      StringBuilder batch = new StringBuilder();
      if (d.bridgeGone()) {
        int mtu = f.mtu();
        batch.append("link add ").append(vpcBridge).append(" mtu ").append(mtu).append(" type bridge\n")
            .append("link set ").append(vpcBridge).append(" addrgenmode none\n")
            .append("link set ").append(vpcBridge).append(" up\n");
        for (InstanceRecord m : records.readAllUnchecked()) {
          NetworkVpc other = m.spec().vpc();
          if (other != null && other.id().equals(vpc.id())
              && IpCommands.linkExists(m.names().vpcVeth())) {
            batch.append("link set ").append(m.names().vpcVeth()).append(" master ").append(vpcBridge).append('\n');
          }
        }
      }
      if (d.vxlanGone()) {
        batch.append(f.createLines(vx, vpcBridge, VpcFabric.vni(vpc.id())));
      } else {
        if (d.offBridge() || d.bridgeGone()) {
          batch.append("link set ").append(vx).append(" master ").append(vpcBridge).append('\n');
        }
        if (d.down()) {
          batch.append("link set ").append(vx).append(" up\n");
        }
      }
      if (batch.length() > 0) {
        ip.batch(batch.toString());
      }
      f.sync(vx);
      guard(f);
      return d.words();
    }));
  }

  /** What {@link #defects} found: the words, and which repairs they call for. */
  private record Defects(List<String> words, boolean bridgeGone, boolean vxlanGone, boolean offBridge,
      boolean down) {}

  /** Reads the fabric side of one VPC in the calling thread's namespace (the fabric's host namespace). */
  private Defects defects(Vxlans f, String vx, String vpcBridge) throws IOException {
    List<String> out = new ArrayList<>();
    Optional<NetlinkReads.Link> br = NetlinkReads.link(vpcBridge);
    Optional<NetlinkReads.Link> x = NetlinkReads.link(vx);
    boolean offBridge = false;
    boolean down = false;
    if (br.isEmpty()) {
      out.add("VPC bridge " + vpcBridge + " is gone");
    }
    if (x.isEmpty()) {
      out.add("VXLAN link " + vx + " is gone");
    } else {
      NetlinkReads.Link l = x.get();
      if (br.isPresent() && l.master() != br.get().index()) {
        offBridge = true;
        out.add("VXLAN link " + vx + " is not a port of VPC bridge " + vpcBridge);
      }
      if (!l.up()) {
        down = true;
        out.add("VXLAN link " + vx + " is down");
      }
      Set<String> have = NetlinkReads.replicationTargets(l.index());
      for (String p : f.peers().stream().map(Cidr::dotted).sorted().toList()) {
        if (!have.contains(p)) {
          out.add("VXLAN link " + vx + " has no forwarding entry to peer " + p);
        }
        have.remove(p);
      }
      for (String extra : have) {
        out.add("VXLAN link " + vx + " has a forwarding entry to " + extra + ", which is not a peer");
      }
    }
    if (!NetlinkReads.tableExists(NetlinkReads.NFPROTO_IPV4, guardTable())) {
      out.add("the fabric's guard (nftables table ip " + guardTable() + ") is gone");
    }
    return new Defects(out, br.isEmpty(), x.isEmpty(), offBridge, down);
  }

  private static @Nullable Path fabricNs(Vxlans f) {
    return f.hostNamespace() == null ? null : Netns.path(f.hostNamespace());
  }

  /** The nftables table (family ip) of the fabric's guard in the host namespace. */
  public String guardTable() {
    return linkPrefix + "fabric";
  }

  /** The host namespace of {@code spec} (null: the JVM's own). */
  public static @Nullable Path hostNs(NetworkSpec spec) {
    return spec.hostNamespace() == null ? null : Netns.path(spec.hostNamespace());
  }

  /**
   * Writes the instance's new record, with its VPC's link index (claimed when the VPC has none yet). The index and
   * the record appear under one lock hold: a concurrent removal of the VPC's last other member then sees this record
   * and keeps the VPC's bridge and index.
   */
  public InstanceRecord record(NetworkSpec spec, long index) throws Exception {
    NetworkVpc vpc = spec.vpc();
    if (vpc == null) {
      return records.create(spec, index, -1);
    }
    return LockFile.with(lock, () -> records.create(spec, index, indexes.claim("v-" + vpc.id())));
  }

  /**
   * Builds the host-namespace side of the instance, after {@code before} (more commands for the same namespace, or
   * empty): its veths, and its VPC's bridge when that does not exist yet.
   */
  public void attach(NetworkSpec spec, Names names, String before) throws Exception {
    Path host = hostNs(spec);
    if (spec.vpc() == null) {
      String batch = before + Programs.hostBatch(spec, names, false);
      if (!batch.isEmpty()) {
        Netns.call(host, () -> ip.batch(batch));
      }
      return;
    }
    LockFile.with(lock, () -> Netns.call(host, () -> {
      String vpcBridge = Objects.requireNonNull(names.vpcBridge());
      boolean exists = IpCommands.linkExists(vpcBridge);
      String batch = before + Programs.hostBatch(spec, names, !exists, mtu(spec));
      String vx = null;
      if (fabric != null) {
        vx = Vxlans.name(linkPrefix, records.read(spec.instanceId()).vpcIndex());
        if (!IpCommands.linkExists(vx)) {
          // with its bridge, or after the bridge was made by a driver without a fabric
          batch += fabric.createLines(vx, vpcBridge, VpcFabric.vni(Objects.requireNonNull(spec.vpc()).id()));
        }
      }
      ip.batch(batch);
      if (vx != null) {
        fabric.sync(vx);
        guard(fabric);
      }
      return null;
    }));
  }

  /**
   * Removes the instance's links of the host namespace (one group deletion); its VPC's bridge too, and the VPC's
   * index, when it is the VPC's last member. With {@code alsoVmSide} the group deletion also covers the VM-side links
   * (the VM and host namespaces are one).
   */
  public void detach(InstanceRecord r, boolean alsoVmSide) throws Exception {
    Names n = r.names();
    NetworkSpec spec = r.spec();
    NetworkVpc vpc = spec.vpc();
    if (vpc == null) {
      if (spec.uplink() != null || alsoVmSide) {
        ip.forceBatch(hostNs(spec), Programs.groupDelete(n, null));
      }
      return;
    }
    LockFile.with(lock, () -> {
      // members being deleted count as gone: of two concurrent last deletions, the second removes the bridge
      Files.write(records.dir(r.id()).resolve("deleting"), new byte[0]);
      List<String> others = otherMembers(vpc.id(), r.id());
      boolean last = others.isEmpty();
      String vpcBridge = Objects.requireNonNull(n.vpcBridge());
      // the VPC's VXLAN link goes with its bridge (whether or not this driver has a fabric now)
      String vx = Vxlans.name(linkPrefix, r.vpcIndex());
      List<String> unused = !last ? List.of() : Netns.call(hostNs(spec), () -> {
        List<String> l = new ArrayList<>();
        for (String link : List.of(vpcBridge, vx)) {
          if (IpCommands.linkExists(link)) {
            l.add(link);
          }
        }
        return l;
      });
      LOG.debug("delete '{}': other members of VPC '{}': {}, removing {}", r.id(), vpc.id(), others, unused);
      ip.forceBatch(hostNs(spec), Programs.groupDeleteWith(n, unused));
      Vxlans f = fabric;
      if (last && f != null && unused.contains(vx)) {
        Netns.call(hostNs(spec), () -> {
          guard(f);
          return null;
        });
      }
      if (last) {
        indexes.release("v-" + vpc.id());
      }
      return null;
    });
  }

  /**
   * The members of a VPC other than {@code self} that are not being deleted. The marker is looked at before the
   * record: a deletion removes the record before the marker, so a member seen without marker and then with a
   * record really is still there.
   */
  private List<String> otherMembers(String vpcId, String self) throws IOException {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(records.instancesDir())) {
      for (Path p : ds) {
        String other = p.getFileName().toString();
        if (other.equals(self) || Files.exists(p.resolve("deleting"))) {
          continue;
        }
        InstanceRecord o = records.read(other);
        if (o != null && o.spec().vpc() != null && o.spec().vpc().id().equals(vpcId)) {
          out.add(other);
        }
      }
    }
    return out;
  }
}
