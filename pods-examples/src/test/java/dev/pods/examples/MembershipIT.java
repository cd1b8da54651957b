package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.ImageResolver;
import dev.pods.kvm.GuestImages;
import dev.pods.spi.Cidr;
import dev.pods.spi.PodMembership.RemotePeer;
import dev.pods.testing.InMemoryMembership;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two runtimes on this host standing for two hosts of one pod, on the real parts (libvirt under TCG, the Linux
 * network driver, real tiny guests and their agents): each is a {@link RuntimeRig} of its own (owner, name prefix,
 * host namespace, state folder) with an {@link InMemoryMembership} of its own. Runtime A hosts {@code web-0} and B
 * {@code web-1} of the same pod; each membership is told the other runtime's instance as a remote peer, its address
 * from that runtime's {@link Instance#privateAddress()} and its state from that deployment's events, as a cluster's
 * node would learn them from its store. web's reload block prints {@code +/unit/web/private_ips} and
 * {@code healthy_private_ips}: web-0's agent prints web-1's address once web-1 is READY, and no longer after B stops
 * web-1 (and the same the other way round).
 *
 * <p>The two runtimes have address pools of their own here (a cluster's nodes share one), so B takes its private
 * addresses from another range than A, and their VPCs are not joined (that is the VXLAN fabric's part): the test
 * sends no traffic between the guests, only reads what their reload blocks print.
 */
@Tag("system")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class MembershipIT {
  private static final Path RUN_ROOT = Path.of("/tmp/pods-membership-it");
  private static final String OWNER_PREFIX = "podsmb-owner-";
  private static final Duration READY = Duration.ofMinutes(5);
  private static final long LINE_WAIT_SECONDS = 180;

  private static Pod pod() {
    return Pod.builder().name("mb")
        .unit(Unit.builder().name("web").image("tiny").count(2).memoryMib(192)
            .script(Script.shell(Phase.INITIAL, "echo \"up as $(hostname)\"\n"))
            .script(Script.shell(Phase.RELOAD, "echo \"web at: $(pods get +/unit/web/private_ips)"
                + " healthy: $(pods get +/unit/web/healthy_private_ips)\"\n"))
            .build())
        .build();
  }

  /** Tells {@code to} instance {@code i} of {@code from} as a remote peer at every state change, from now on. */
  private static void mirror(Deployment from, Instance i, InMemoryMembership to) {
    from.events().subscribe(e -> {
      if (e instanceof PodEvent.StateChanged s && s.instance().equals(i.name())) {
        to.putPeer("mb", new RemotePeer(i.unit(), i.index(), i.privateAddress(), null, s.to()));
      }
    });
    // what it was before the subscription (the feed delivers the later changes in order)
    to.putPeer("mb", new RemotePeer(i.unit(), i.index(), i.privateAddress(), null, i.state()));
  }

  /** Collects the output lines of one instance, for waits on a line. */
  private static BlockingQueue<String> lines(Deployment d, String instance, List<String> log) {
    BlockingQueue<String> q = new LinkedBlockingQueue<>();
    d.events().subscribe(e -> {
      log.add(e.toString());
      if (e instanceof PodEvent.OutputLine o && o.instance().equals(instance)) {
        q.add(o.line());
      }
    });
    return q;
  }

  /** Waits for a line that {@code wanted} accepts; fails with what came instead. */
  private static String awaitLine(BlockingQueue<String> q, String what, Predicate<String> wanted)
      throws InterruptedException {
    List<String> seen = new ArrayList<>();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(LINE_WAIT_SECONDS);
    while (true) {
      long left = end - System.nanoTime();
      String l = left > 0 ? q.poll(left, TimeUnit.NANOSECONDS) : null;
      if (l == null) {
        throw new AssertionError(what + ": no such line within " + LINE_WAIT_SECONDS + " s; lines: " + seen);
      }
      seen.add(l);
      if (wanted.test(l)) {
        return l;
      }
    }
  }

  @Test
  void eachRuntimesInstanceSeesTheOthersAsAPeerWhileItRuns() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "ma", OWNER_PREFIX, "membership-it");
    HostTools.reapDeadRuns(RUN_ROOT, "mb", OWNER_PREFIX, "membership-it");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    ImageResolver images = image -> {
      if (!image.equals("tiny")) {
        throw new PodsException("this test only knows the image 'tiny', not '" + image + "'");
      }
      return BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline(""));
    };
    InMemoryMembership membershipA = new InMemoryMembership();
    InMemoryMembership membershipB = new InMemoryMembership();
    membershipA.host("mb", "web-0");
    membershipB.host("mb", "web-1");
    List<String> domains = new ArrayList<>();
    List<String> eventsA = new CopyOnWriteArrayList<>();
    List<String> eventsB = new CopyOnWriteArrayList<>();
    RuntimeRig a = RuntimeRig.start(RUN_ROOT, "ma", OWNER_PREFIX, images, (p, b) -> b.membership(membershipA));
    RuntimeRig b = null;
    Deployment da = null;
    Deployment db = null;
    try {
      b = RuntimeRig.start(RUN_ROOT, "mb", OWNER_PREFIX, images,
          (p, bl) -> bl.membership(membershipB).privateRange(Cidr.parse("10.97.0.0/16")));
      da = a.runtime.deploy(pod());
      db = b.runtime.deploy(pod());
      BlockingQueue<String> web0 = lines(da, "web-0", eventsA);
      BlockingQueue<String> web1 = lines(db, "web-1", eventsB);
      assertThat(da.instances()).extracting(Instance::name).containsExactly("web-0");
      assertThat(db.instances()).extracting(Instance::name).containsExactly("web-1");
      Instance i0 = da.instance("web", 0);
      Instance i1 = db.instance("web", 1);
      domains.add(i0.domainName());
      domains.add(i1.domainName());
      String a0 = i0.privateAddress().getHostAddress();
      String b1 = i1.privateAddress().getHostAddress();
      assertThat(a0).isNotEqualTo(b1);
      mirror(da, i0, membershipB);
      mirror(db, i1, membershipA);
      try {
        da.awaitReady(READY);
        db.awaitReady(READY);
        String both = "web at: " + a0 + "," + b1 + " healthy: " + a0 + "," + b1;
        awaitLine(web0, "web-0 sees web-1 READY", both::equals);
        awaitLine(web1, "web-1 sees web-0 READY", both::equals);

        i1.stop(); // B stops web-1: A hears STOPPED, and web-0 reloads without it
        assertThat(i1.state()).isEqualTo(InstanceState.STOPPED);
        awaitLine(web0, "web-0 no longer sees web-1", ("web at: " + a0 + " healthy: " + a0)::equals);
      } catch (Throwable t) {
        for (Instance i : List.of(i0, i1)) {
          System.out.println("==== " + i.name() + " " + i.state() + " console ====\n" + i.consoleOutput());
        }
        System.out.println("==== events A ====\n" + String.join("\n", eventsA));
        System.out.println("==== events B ====\n" + String.join("\n", eventsB));
        throw t;
      }
      da.destroy();
      da = null;
      db.destroy();
      db = null;
    } finally {
      List<Throwable> errors = new ArrayList<>();
      if (da != null) {
        HostTools.step(errors, da::destroy);
      }
      if (db != null) {
        HostTools.step(errors, db::destroy);
      }
      if (b != null) {
        HostTools.step(errors, b::close);
      }
      HostTools.step(errors, a::close);
      if (!errors.isEmpty()) {
        AssertionError e = new AssertionError("teardown failed: " + errors);
        errors.forEach(e::addSuppressed);
        throw e;
      }
    }
    assertThat(a.leftovers(domains)).as("left behind by A").isEmpty();
    assertThat(b.leftovers(domains)).as("left behind by B").isEmpty();
  }
}
