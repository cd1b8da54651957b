package dev.pods.runtime;

import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.PodEvent;
import dev.pods.PodEvents;
import dev.pods.Trigger;
import dev.pods.imds.AgentEvent;
import dev.pods.imds.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;

/**
 * Stands in for the guest agents of a deployment on the in-memory hypervisor: whenever an instance reaches
 * {@link InstanceState#BOOTING} (a new domain was started), it reports an initial phase to that instance as its
 * metadata service would, successful or not as {@link #outcome} says. Events arrive on the feed's thread, so the
 * reports do too. Also records every event it saw.
 */
final class FakeAgents implements AutoCloseable {
  /** Decides whether the initial phase of (instance name, boot number of that instance from 1) succeeds. */
  volatile BiPredicate<String, Integer> outcome = (name, boot) -> true;
  /** Instances whose agent stays silent (their initial phase never starts). */
  final java.util.Set<String> silent = java.util.concurrent.ConcurrentHashMap.newKeySet();

  final List<PodEvent> events = new CopyOnWriteArrayList<>();
  private final Deployment d;
  private final PodEvents.Subscription sub;
  private final AtomicInteger runs = new AtomicInteger();
  private final java.util.Map<String, Integer> boots = new java.util.concurrent.ConcurrentHashMap<>();

  FakeAgents(Deployment d) {
    this.d = d;
    this.sub = d.events().subscribe(this::onEvent);
    // those that booted before the subscription (a direct executor builds them inside deploy)
    for (Instance i : d.instances()) {
      if (i.state() == InstanceState.BOOTING) {
        boot(i);
      }
    }
  }

  private void onEvent(PodEvent e) {
    events.add(e);
    if (e instanceof PodEvent.StateChanged s && s.to() == InstanceState.BOOTING) {
      d.instances().stream().filter(i -> i.name().equals(s.instance())).findFirst().ifPresent(this::boot);
    }
  }

  private synchronized void boot(Instance i) {
    if (i.state() != InstanceState.BOOTING || silent.contains(i.name())) {
      return; // seen twice (scanned and announced), gone meanwhile, or told to stay silent
    }
    int boot = boots.merge(i.name(), 1, Integer::sum);
    boolean ok = outcome.test(i.name(), boot);
    DefaultInstance di = (DefaultInstance) i;
    String run = "r" + runs.incrementAndGet();
    Instant at = Instant.now();
    di.onAgentEvent(new AgentEvent.RunStarted(i.id(), at, run, Trigger.FIRST_BOOT, "v", "h", List.of(0)));
    di.onAgentEvent(new AgentEvent.OutputLine(i.id(), at, run, 0, OutputStream.STDOUT,
        "boot " + boot + " of " + i.name() + " with " + di.unit.memoryMib() + " MiB"));
    di.onAgentEvent(new AgentEvent.RunFinished(i.id(), at, run, Trigger.FIRST_BOOT, ok, ok ? -1 : 0, ok ? 0 : 7,
        Duration.ofMillis(3)));
  }

  /** How many initial phases {@code name} ran. */
  int boots(String name) {
    return boots.getOrDefault(name, 0);
  }

  @Override
  public void close() {
    sub.close();
  }
}
