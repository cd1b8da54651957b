package dev.pods.etcd;

import dev.pods.ConflictException;
import dev.pods.InstanceState;
import dev.pods.MigrationPlan;
import dev.pods.Pod;
import dev.pods.PodsException;
import dev.pods.Unit;
import dev.pods.diff.PodDiff;
import dev.pods.etcd.internal.StatusRecord;
import dev.pods.spi.PodDocuments;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A migration plan of a pod desired in a cluster: {@link #apply(Duration)} writes the new pod as desired and waits
 * until the nodes run it. Immutable; thread-safe.
 */
final class ClusterPlan implements MigrationPlan {
  private final ClusterDeployment deployment;
  private final Pod from;
  private final Pod to;
  private final List<Step> steps;

  ClusterPlan(ClusterDeployment deployment, Pod from, Pod to, List<Step> steps) {
    this.deployment = deployment;
    this.from = from;
    this.to = to;
    this.steps = List.copyOf(steps);
  }

  @Override
  public Pod from() {
    return from;
  }

  @Override
  public Pod to() {
    return to;
  }

  @Override
  public PodDiff diff() {
    return PodDiff.between(from, to);
  }

  @Override
  public List<Step> steps() {
    return steps;
  }

  @Override
  public boolean isEmpty() {
    return from.equals(to) && steps.stream().allMatch(s -> s.action() == Action.KEEP);
  }

  @Override
  public String toText() {
    return ClusterPlanner.text(to.name(), diff().toText(), steps);
  }

  @Override
  public void apply() {
    apply(DEFAULT_RECREATE_TIMEOUT);
  }

  /**
   * Writes {@link #to()} as the cluster's desired pod, then waits until every instance of it is reported READY
   * running its unit's new spec version, and no node reports an instance it no longer has. Over a cluster the
   * nodes make the changes; {@code timeout} bounds the whole wait (not each recreation).
   *
   * @throws ConflictException when the cluster's desired pod is no longer {@link #from()}; nothing was written
   * @throws PodsException when an instance of the new spec FAILED, or when the timeout passed, naming the
   *     instances not there yet with their states and nodes
   * @throws IllegalStateException when the deployment was destroyed or the runtime closed
   */
  @Override
  public void apply(Duration timeout) {
    deployment.change(() -> {
      if (!deployment.pod().equals(from)) {
        throw new ConflictException("pod " + to.name() + " changed in the cluster since the plan was made: plan"
            + " again");
      }
      deployment.runtime().desired().put(to);
      deployment.seen(to);
      ClusterView view = deployment.runtime().view();
      long start = System.nanoTime();
      // the instances of the new pod, not of what the watch shows yet
      List<ClusterInstance> all = new ArrayList<>();
      for (Unit u : to.units()) {
        for (int i = 0; i < u.count(); i++) {
          all.add(deployment.instanceNamed(u.name() + "-" + i));
        }
      }
      String missing = deployment.waitUntil(all, timeout, i -> {
        Unit u = to.unit(i.unit()).orElseThrow();
        StatusRecord s = view.status(i.id());
        return s != null && s.state().equals(InstanceState.READY.name())
            && s.specVersion().equals(PodDocuments.unitVersion(u));
      });
      if (missing != null || !deployment.awaitTrue(() -> removedGone(view) || deployment.destroyed(),
          timeout.minusNanos(System.nanoTime() - start))) {
        List<String> gone = new ArrayList<>();
        removed(view).forEach((n, s) -> gone.add(n + " still on " + s.node()));
        throw new PodsException("pod " + to.name() + " written to the cluster, but after " + timeout.toSeconds()
            + " s not every instance runs it: " + (missing == null ? "" : missing)
            + (gone.isEmpty() ? "" : (missing == null ? "" : "; ") + String.join(", ", gone)));
      }
      if (deployment.destroyed()) {
        throw new IllegalStateException("pod " + to.name() + " was removed from the cluster while the plan applied");
      }
    });
  }

  private boolean removedGone(ClusterView view) {
    return removed(view).isEmpty();
  }

  /** Reports of instances the new pod does not have. */
  private Map<String, StatusRecord> removed(ClusterView view) {
    Map<String, StatusRecord> out = new java.util.TreeMap<>();
    view.statusOf(to.name()).forEach((name, s) -> {
      int dash = name.lastIndexOf('-');
      boolean kept = to.unit(name.substring(0, dash))
          .map(u -> Integer.parseInt(name.substring(dash + 1)) < u.count()).orElse(false);
      if (!kept) {
        out.put(name, s);
      }
    });
    return out;
  }
}
