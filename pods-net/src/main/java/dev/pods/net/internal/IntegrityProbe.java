package dev.pods.net.internal;

import dev.pods.spi.Cidr;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;

/**
 * The cheap check of an instance network: reads, without starting a process, entering a namespace or taking the
 * instance's lock, the record, the namespace's file under {@code /run/netns}, dnsmasq's pid file and that process's
 * namespace under {@code /proc}, then through {@code /proc/<dnsmasq>/net} (dnsmasq lives in the instance's
 * namespace) its links and the addresses and link routes of {@code gw0} and {@code up0}, and the VM namespace's
 * links ({@code /proc/thread-self/net}; for a named VM namespace, on one short-lived thread inside it). For an
 * instance of a VPC on a driver with a fabric, also the fabric side of its VPC ({@link VpcBridges#fabricDefects}:
 * three or four netlink requests, on the VM namespace's thread when the fabric's host namespace is the VM namespace,
 * else on one more short-lived thread when it is a named one).
 *
 * <p>Thread-safe; blocks only on file and netlink reads (and those threads).
 */
public final class IntegrityProbe {
  private final RecordStore records;
  private final DnsmasqSupervisor dnsmasq;
  private final @Nullable Path vmNs;
  private final VpcBridges vpcs;

  /**
   * Probes the networks of {@code records}, whose VM sides are in {@code vmNs} (null: the JVM's namespace) and whose
   * VPCs' fabric side {@code vpcs} reads.
   */
  public IntegrityProbe(RecordStore records, DnsmasqSupervisor dnsmasq, @Nullable Path vmNs, VpcBridges vpcs) {
    this.records = records;
    this.vpcs = vpcs;
    this.dnsmasq = dnsmasq;
    this.vmNs = vmNs;
  }

  /** What is missing or broken, in words; empty when the network is whole. */
  public List<String> probe(String instanceId) {
    InstanceRecord r = records.readUnchecked(instanceId);
    if (r == null) {
      return List.of("instance '" + instanceId + "' has no network");
    }
    if (!r.ready()) {
      return List.of("the network of instance '" + instanceId + "' is being built, or its build was interrupted");
    }
    String ns = r.names().namespace();
    if (!Netns.exists(ns)) {
      return List.of("namespace " + ns + " is gone");
    }
    List<String> out = new ArrayList<>();
    // the fabric side is read on the same thread when its host namespace is the VM namespace (as usual)
    boolean together = r.spec().vpc() != null && vpcs.hasFabric() && Objects.equals(vmNs, vpcs.fabricNamespace());
    List<String> fabricSide = new ArrayList<>();
    try {
      Set<String> vmSide = Netns.call(vmNs, () -> {
        if (together) {
          fabricSide.addAll(fabricDefects(() -> vpcs.fabricDefectsHere(r)));
        }
        return ProcNet.links(ProcNet.ofThisThread());
      });
      for (String link : List.of(r.names().bridge(), r.names().tap(), r.names().vmVeth())) {
        if (!vmSide.contains(link)) {
          out.add("link " + link + " is gone");
        }
      }
      Long dns = dnsmasq.pid(r);
      if (dns == null) {
        // the inside is read through dnsmasq's /proc entry: without it, create checks the rest when it mends this
        out.add("its DHCP server (dnsmasq) is not running");
      } else {
        out.addAll(inside(r.spec(), ProcNet.ofProcess(dns)));
      }
    } catch (Exception e) {
      out.add("its links cannot be read: " + e.getMessage());
    }
    out.addAll(together ? fabricSide : fabricDefects(() -> vpcs.fabricDefects(r)));
    return out;
  }

  private static List<String> fabricDefects(Callable<List<String>> read) {
    try {
      return read.call();
    } catch (Exception e) {
      return List.of("the fabric side of its VPC cannot be read: " + e.getMessage());
    }
  }

  /** What is missing inside the instance's namespace, read through {@code net}, a {@code /proc} view of it. */
  private static List<String> inside(NetworkSpec spec, Path net) throws IOException {
    List<String> out = new ArrayList<>();
    Set<String> links = ProcNet.links(net);
    List<String> want = new ArrayList<>(List.of(Names.GW_IF));
    if (spec.uplink() != null) {
      want.add(Names.UP_IF);
    }
    if (spec.vpc() != null) {
      want.add(Names.VPC_IF);
    }
    for (String link : want) {
      if (!links.contains(link)) {
        out.add("link " + link + " is gone");
      }
    }
    Set<Inet4Address> local = ProcNet.localAddresses(Files.readString(net.resolve("fib_trie")));
    String routes = Files.readString(net.resolve("route"));
    if (links.contains(Names.GW_IF) && !(local.contains(spec.gateway())
        && ProcNet.hasLinkRoute(routes, Names.GW_IF, spec.subnet()))) {
      out.add(Names.GW_IF + " lost its address " + Cidr.dotted(spec.gateway()) + "/" + spec.subnet().prefixLength()
          + " (or is down)");
    }
    NetworkUplink up = spec.uplink();
    if (up != null && links.contains(Names.UP_IF) && !(local.contains(up.address())
        && ProcNet.hasLinkRoute(routes, Names.UP_IF, Cidr.containing(up.address(), up.prefixLength())))) {
      out.add(Names.UP_IF + " lost its address " + Cidr.dotted(up.address()) + "/" + up.prefixLength()
          + " (or is down)");
    }
    return out;
  }
}
