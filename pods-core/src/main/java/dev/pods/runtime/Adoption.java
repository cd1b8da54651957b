package dev.pods.runtime;

import dev.pods.spi.RuntimeSettings;
import dev.pods.spi.StateStore;
import dev.pods.InstanceState;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.spi.Cidr;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainInfo;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.NetworkInstance;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a starting runtime does with the records an earlier runtime of its owner left in the state folder:
 *
 * <ol>
 *   <li>a record marked {@code destroying} (a destroy a crash interrupted): removes what it names and the record;
 *   <li>every other record becomes a deployment again, with the recorded pod, addresses (taken from the pools,
 *       where allocation is idempotent per holder: never allocated twice), tokens and states. Per instance: network,
 *       files and a running domain there: its metadata service is started with the recorded token (the guest's
 *       agent reconnects) and it keeps its recorded state; network and files there but the domain shut off: the
 *       metadata service and the start are scheduled; the network or the domain's definition gone (a host reboot)
 *       but its files (root overlay and seed) kept, and the instance booted before: the network is built again with
 *       the same names and addresses, the domain defined again on those files and started (a restart: same disk and
 *       token; a guest that finished its initial phase runs its reboot blocks, not its initial ones); its files
 *       gone, or its first build interrupted: the instance is rebuilt from scratch with the same addresses and token
 *       (its initial phase runs again on a fresh disk), its CREATING state saying why; a recorded failure stays a
 *       failure; an instance recorded STOPPED by {@code Instance.stop()} (or not restarted
 *       by its policy) stays STOPPED: when a host reboot took its network or domain, both are made again around its
 *       kept files without starting it;
 *   <li>removes what the owner has but no record wants: domains ({@code Hypervisor.list(owner)}) with their files
 *       and networks ({@code NetworkDriver.list(owner)}), and the address allocations of both. Skipped entirely when
 *       a record could not be read (it might want them).
 * </ol>
 *
 * Anything of another owner is never touched: an instance whose domain or network turns out to be another
 * owner's is marked FAILED instead. Not instantiable; {@link #run} blocks on the hypervisor and network driver.
 */
final class Adoption {
  private static final Logger LOG = LoggerFactory.getLogger(Adoption.class);

  private final DefaultPodRuntime rt;
  private final RuntimeSettings s;
  private final IpAddressPool priv;
  private final @Nullable IpAddressPool pub;
  private final Set<String> wantedDomains = new HashSet<>();
  private final Set<String> wantedIds = new HashSet<>();

  private Adoption(DefaultPodRuntime rt, RuntimeSettings s) {
    this.rt = rt;
    this.s = s;
    this.priv = rt.privatePool();
    this.pub = rt.publicPool();
  }

  /** Adopts the recorded deployments into {@code rt} and removes the owner's unwanted leftovers. */
  static void run(DefaultPodRuntime rt, RuntimeSettings s) {
    new Adoption(rt, s).run();
  }

  private void run() {
    List<DeploymentRecord> records = new ArrayList<>();
    boolean unreadable = false;
    for (StateStore.Entry e : rt.store().all()) {
      DeploymentRecord r;
      try {
        r = DeploymentRecord.parse(e.value());
      } catch (IllegalArgumentException x) {
        LOG.error("cannot read the state record {} ({}); it is left as it is, and no leftover is removed until it "
            + "is fixed or deleted", e.where(), x.getMessage());
        unreadable = true;
        continue;
      }
      if (!r.owner().equals(s.owner())) {
        LOG.warn("state record {} belongs to owner '{}', not to this runtime's '{}': not adopted", e.where(),
            r.owner(), s.owner());
        continue;
      }
      records.add(r);
    }
    for (DeploymentRecord r : records) {
      if (r.destroying()) {
        finishDestroy(r);
      }
    }
    List<Map.Entry<DefaultDeployment, Map<DefaultInstance, DefaultDeployment.Todo>>> todo = new ArrayList<>();
    for (DeploymentRecord r : records) {
      if (!r.destroying()) {
        todo.add(adopt(r));
      }
    }
    if (unreadable) {
      LOG.warn("owner {}: leftovers not reaped (an unreadable state record may want them)", s.owner());
    } else {
      removeLeftovers();
    }
    for (Map.Entry<DefaultDeployment, Map<DefaultInstance, DefaultDeployment.Todo>> e : todo) {
      e.getKey().finishAdopted(e.getValue(), rt.executor());
    }
  }

  /** Rebuilds one deployment; returns what must still be built (instance -> how), to schedule later. */
  private Map.Entry<DefaultDeployment, Map<DefaultInstance, DefaultDeployment.Todo>> adopt(DeploymentRecord r) {
    DefaultDeployment d = new DefaultDeployment(rt, s, r.pod(), priv, pub);
    Map<DefaultInstance, DefaultDeployment.Todo> build = new LinkedHashMap<>();
    List<DefaultInstance> running = new ArrayList<>();
    for (DeploymentRecord.InstanceRecord ir : r.instances()) {
      Unit unit = r.pod().unit(ir.unit()).orElse(null);
      if (unit == null) {
        // not wanted by the recorded pod: its domain and network are removed with the other leftovers
        LOG.warn("state record of pod {} names instance {} of unit {}, which the pod lacks: not adopted",
            r.pod().name(), ir.id(), ir.unit());
        continue;
      }
      wantedDomains.add(ir.domain());
      wantedIds.add(ir.id());
      if (!ir.specVersion().equals(DefaultDeployment.specVersion(unit))) {
        LOG.warn("pod {} instance {}: recorded spec version {} differs from its unit's {} (another pods version?)",
            r.pod().name(), ir.id(), ir.specVersion(), DefaultDeployment.specVersion(unit));
      }
      Cidr subnet = priv.allocate(ir.id()); // the recorded block (allocation is idempotent per holder)
      if (ir.subnet() != null && !subnet.toString().equals(ir.subnet())) {
        LOG.warn("pod {} instance {}: the pool holds {} but the record {}; using the pool's", r.pod().name(),
            ir.id(), subnet, ir.subnet());
      }
      Inet4Address pa = null;
      String problem = null;
      if (unit.publicAddress()) {
        if (pub == null) {
          problem = "its unit wants a public address, but the runtime has no public network";
        } else {
          pa = pub.allocate(ir.id()).network();
        }
      }
      DefaultInstance i = new DefaultInstance(d, unit, ir.index(), ir.id(), ir.domain(), subnet, pa, ir.token());
      d.add(i);
      if (!rt.hosts(r.pod().name(), ir.unit(), ir.index())) {
        // another host of the cluster runs it now (moved while no runtime ran here): nothing of it is started or
        // rebuilt here, never two copies; following the membership removes what is left of it
        i.restoreStopped("another host runs it now", false, ir.initialized());
        i.claimed.set(true);
        LOG.info("pod {} instance {}: adopted, not started: another host runs it now", r.pod().name(), i.name());
        continue;
      }
      if (ir.state() == InstanceState.FAILED || ir.state() == InstanceState.DESTROYED) {
        i.restore(ir.state(), new PodsException("instance " + i.name() + " failed before the runtime restarted: "
            + ir.failure()));
        i.claimed.set(true);
        if (hasRunningDomain(i)) {
          running.add(i); // a failed initial phase keeps its VM: exec still works
        }
        continue;
      }
      if (problem == null) {
        problem = foreign(i);
      }
      if (problem != null) {
        i.restore(InstanceState.FAILED, new PodsException("cannot adopt instance " + i.name() + ": " + problem));
        i.claimed.set(true);
        continue;
      }
      i.restore(ir.state(), null);
      Optional<NetworkInstance> net = s.networkDriver().find(i.id());
      Optional<DomainInfo> dom = s.hypervisor().find(i.domainName());
      boolean filesThere = dom.isPresent() && filesExist(dom.get());
      if (ir.state() == InstanceState.STOPPED) {
        String why = ir.failure() == null ? "its domain stopped" : ir.failure();
        // stopped by Instance.stop(), or by the guest where the restart policy did not restart it: it stays so
        boolean keep = ir.held() || why.contains("; not restarted (");
        if (keep && net.isPresent() && filesThere && !dom.get().state().isActive()) {
          i.restoreStopped(why, ir.held(), ir.initialized());
          i.claimed.set(true);
          running.add(i);
          LOG.info("pod {} instance {}: adopted, stopped ({})", r.pod().name(), i.name(), why);
          continue;
        }
        if (keep && !dom.map(x -> x.state().isActive()).orElse(false) && d.filesKept(i)) {
          // a host reboot took its network or domain: both are made again around its kept files, not started
          i.restoreStopped(why, ir.held(), ir.initialized());
          i.claimed.set(true);
          try {
            d.rebuildStopped(i);
            running.add(i);
            LOG.info("pod {} instance {}: adopted, stopped ({}); its network and domain made again", r.pod().name(),
                i.name(), why);
          } catch (RuntimeException e) {
            LOG.warn("pod {} instance {}: cannot make its network and domain again", r.pod().name(), i.name(), e);
            i.restore(InstanceState.FAILED, new PodsException("cannot adopt instance " + i.name()
                + ": its network and domain could not be made again: " + e.getMessage(), e));
          }
          continue;
        }
        // stopped behind the runtime's back: started (or rebuilt) now, as its restart policy would
        i.restoreStopped(why, false, ir.initialized());
        i.restore(InstanceState.BOOTING, null);
        i.initialized = ir.initialized();
      }
      if (net.isPresent() && filesThere && dom.get().state().isActive()) {
        if (ir.state() == InstanceState.PENDING || ir.state() == InstanceState.CREATING) {
          i.restore(InstanceState.BOOTING, null); // the crash came between the start and its record
        }
        i.adoptedUnsettled = i.state() == InstanceState.BOOTING || i.state() == InstanceState.INITIALIZING;
        i.claimed.set(true);
        running.add(i);
        LOG.info("pod {} instance {}: adopted ({})", r.pod().name(), i.name(), i.state());
      } else if (net.isPresent() && filesThere) {
        build.put(i, new DefaultDeployment.Todo(DefaultDeployment.Build.START, null));
        LOG.info("pod {} instance {}: adopted; its domain is {}, starting it", r.pod().name(), i.name(),
            dom.get().state());
      } else if (booted(ir) && d.filesKept(i)) {
        // a host reboot (or its like): the network or the domain's definition went, its disk and seed stayed
        String gone = net.isPresent() ? "domain was" : dom.isPresent() ? "network was" : "network and domain were";
        String then = "";
        if (dom.isPresent() && dom.get().state().isActive()) {
          s.hypervisor().destroy(i.domainName()); // its NIC's tap went with the network: it starts again on the new one
          then = "; its domain, still running, was powered off";
        }
        build.put(i, new DefaultDeployment.Todo(DefaultDeployment.Build.KEPT_FILES, "its " + gone
            + " gone when a new runtime adopted it" + then + "; restarting it on its kept disk with the same "
            + "addresses"));
        LOG.info("pod {} instance {}: adopted; its {} gone, restarting it on its kept files", r.pod().name(),
            i.name(), gone);
      } else {
        if (dom.isPresent()) {
          s.hypervisor().undefine(i.domainName()); // without its files it cannot run as it is
        }
        String cause = booted(ir) ? "its files were gone" : "its first build had not finished";
        build.put(i, new DefaultDeployment.Todo(DefaultDeployment.Build.FRESH, cause + " when a new runtime adopted "
            + "it; rebuilding it on a fresh disk with the same addresses (its initial phase runs again)"));
        LOG.info("pod {} instance {}: adopted; rebuilding it (network {}, domain {}; {})", r.pod().name(), i.name(),
            net.isPresent() ? "there" : "missing", dom.map(x -> x.state().toString()).orElse("missing"), cause);
      }
    }
    rt.adopted(d);
    rt.saveState(d);
    d.refreshDns(); // what changed while no runtime ran; a new runtime's providers learn the names again
    for (DefaultInstance i : running) {
      try {
        d.startImds(i);
      } catch (RuntimeException e) {
        LOG.warn("pod {} instance {}: cannot start its metadata service", r.pod().name(), i.name(), e);
        i.transition(InstanceState.FAILED, e);
      }
    }
    d.firewalls().sync(); // rules made by an earlier runtime follow the instances as they are now
    try {
      d.nodePorts().reconcile(d.pod());
    } catch (RuntimeException e) {
      LOG.warn("pod {}: cannot open its node ports", r.pod().name(), e);
    }
    return Map.entry(d, build);
  }

  /**
   * Whether the recorded instance's domain was started before (READY or STOPPED once), so its files are complete: a
   * crash during its first build may have left them half written, and such an instance is built again from scratch.
   */
  private static boolean booted(DeploymentRecord.InstanceRecord ir) {
    return ir.initialized() || ir.state() == InstanceState.READY || ir.state() == InstanceState.UNHEALTHY
        || ir.state() == InstanceState.STOPPED;
  }

  private boolean hasRunningDomain(DefaultInstance i) {
    Optional<DomainInfo> dom = s.hypervisor().find(i.domainName());
    return dom.isPresent() && dom.get().metadata().owner().equals(s.owner()) && dom.get().state().isActive()
        && s.networkDriver().find(i.id()).map(n -> n.spec().owner().equals(s.owner())).orElse(false);
  }

  /** Why the instance's domain or network cannot be its own (another owner's), or {@code null}. */
  private @Nullable String foreign(DefaultInstance i) {
    Optional<DomainInfo> dom = s.hypervisor().find(i.domainName());
    if (dom.isPresent() && !dom.get().metadata().owner().equals(s.owner())) {
      return "domain " + i.domainName() + " belongs to owner '" + dom.get().metadata().owner() + "'";
    }
    Optional<NetworkInstance> net = s.networkDriver().find(i.id());
    if (net.isPresent() && !net.get().spec().owner().equals(s.owner())) {
      return "network " + i.id() + " belongs to owner '" + net.get().spec().owner() + "'";
    }
    return null;
  }

  private static boolean filesExist(DomainInfo d) {
    for (DomainDisk disk : d.spec().disks()) {
      if (!Files.exists(disk.path())) {
        return false;
      }
    }
    return d.spec().seedIso() == null || Files.exists(d.spec().seedIso());
  }

  /** Removes what a destroy a crash interrupted left, then its record; keeps the record when a step fails. */
  private void finishDestroy(DeploymentRecord r) {
    LOG.info("pod {}: finishing its interrupted destroy", r.pod().name());
    List<Throwable> errors = new ArrayList<>();
    for (DeploymentRecord.InstanceRecord ir : r.instances()) {
      step(errors, () -> removeDomain(ir.domain()));
      step(errors, () -> removeNetwork(ir.id()));
    }
    // the names the destroyed deployment may have published (removing what is absent does nothing)
    for (DnsRecords.Name n : DnsRecords.names(r.pod(), List.of(), s.domains())) {
      if (n.provider() != null) {
        step(errors, () -> n.provider().replace(n.zone(), n.name(), List.of()));
      }
    }
    if (errors.isEmpty()) {
      step(errors, () -> rt.store().remove(r.pod().name()));
    }
    if (!errors.isEmpty()) {
      LOG.warn("pod {}: the interrupted destroy failed again ({} steps; the next start retries)", r.pod().name(),
          errors.size(), errors.get(0));
    }
  }

  /** The owner's domains and networks no record wants, with their files and allocations. */
  private void removeLeftovers() {
    List<Throwable> errors = new ArrayList<>();
    for (DomainInfo di : s.hypervisor().list(s.owner())) {
      if (!wantedDomains.contains(di.name())) {
        DomainMetadata m = di.metadata();
        LOG.info("owner {}: removing leftover domain {} (pod {}, {}-{})", s.owner(), di.name(), m.pod(), m.unit(),
            m.index());
        step(errors, () -> removeDomain(di.name()));
        String id = DefaultPodRuntime.instanceId(m.pod(), m.unit(), m.index());
        if (!wantedIds.contains(id)) {
          step(errors, () -> removeNetwork(id));
        }
      }
    }
    for (NetworkInstance n : s.networkDriver().list(s.owner())) {
      String id = n.spec().instanceId();
      if (!wantedIds.contains(id)) {
        LOG.info("owner {}: removing leftover network {}", s.owner(), id);
        step(errors, () -> removeNetwork(id));
      }
    }
    if (!errors.isEmpty()) {
      LOG.warn("owner {}: {} leftovers could not be removed (the next start retries)", s.owner(), errors.size(),
          errors.get(0));
    }
  }

  /** Undefines the domain and deletes its files, unless it is another owner's. */
  private void removeDomain(String domain) {
    Optional<DomainInfo> dom = s.hypervisor().find(domain);
    if (dom.isPresent() && !dom.get().metadata().owner().equals(s.owner())) {
      return;
    }
    if (dom.isPresent()) {
      s.hypervisor().undefine(domain);
    }
    s.instanceFiles().delete(domain);
  }

  /** Deletes the network and releases the addresses of {@code id}, unless its network is another owner's. */
  private void removeNetwork(String id) {
    Optional<NetworkInstance> net = s.networkDriver().find(id);
    if (net.isPresent() && !net.get().spec().owner().equals(s.owner())) {
      return;
    }
    if (net.isPresent()) {
      s.networkDriver().delete(id);
    }
    if (rt.releasesPrivateAddresses()) {
      priv.release(id); // with a membership, the hosts share the pool: the instance keeps it wherever it runs
    }
    if (pub != null) {
      pub.release(id);
    }
  }

  private interface Step {
    void run();
  }

  private static void step(List<Throwable> errors, Step step) {
    try {
      step.run();
    } catch (RuntimeException e) {
      errors.add(e);
    }
  }
}
