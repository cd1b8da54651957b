package dev.pods.runtime;

import dev.pods.MigrationPlan;
import dev.pods.Pod;
import dev.pods.diff.PodDiff;
import java.time.Duration;
import java.util.List;

/** The plan {@link DefaultDeployment#plan} makes: a value, plus the deployment and generation it was made against. */
final class DefaultMigrationPlan implements MigrationPlan {
  private final DefaultDeployment deployment;
  private final long generation;
  private final Pod from;
  private final Pod to;
  private final PodDiff diff;
  private final List<Step> steps;
  private final String text;

  DefaultMigrationPlan(DefaultDeployment deployment, long generation, Pod from, Pod to, List<Step> steps) {
    this.deployment = deployment;
    this.generation = generation;
    this.from = from;
    this.to = to;
    this.diff = PodDiff.between(from, to);
    this.steps = List.copyOf(steps);
    this.text = Planner.text(to.name(), diff.toText(), this.steps);
  }

  /** The deployment's generation the plan was made against (odd: made while another migration ran). */
  long generation() {
    return generation;
  }

  DefaultDeployment deployment() {
    return deployment;
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
    return diff;
  }

  @Override
  public List<Step> steps() {
    return steps;
  }

  @Override
  public boolean isEmpty() {
    return diff.isEmpty() && steps.stream().allMatch(s -> s.action() == Action.KEEP);
  }

  @Override
  public String toText() {
    return text;
  }

  @Override
  public void apply() {
    apply(DEFAULT_RECREATE_TIMEOUT);
  }

  @Override
  public void apply(Duration recreateTimeout) {
    Migrator.apply(this, recreateTimeout);
  }

  @Override
  public String toString() {
    return text;
  }
}
