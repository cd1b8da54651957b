package dev.pods.etcd;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where the leader put one instance, and why. Immutable.
 *
 * @param instance the instance, {@code POD/UNIT-INDEX}
 * @param node the node that runs it ({@link State#PLACED}), the node it waits for ({@link State#WAITING}), or
 *     {@code null} ({@link State#UNPLACEABLE})
 * @param state whether it is placed
 * @param why the explanation, e.g. {@code web-2 on h3: least loaded of h1, h3 ...; h2 already runs web-0}
 * @since 0.1
 */
public record Assignment(String instance, @Nullable String node, State state, String why) {

  /** An assignment's state. */
  public enum State {
    /** On a live node, which runs it. */
    PLACED,
    /**
     * Bound to a node that is not live or lacks room (a local persistent disk, or a pin): not moved, waiting for
     * its node.
     */
    WAITING,
    /** No live node has room for it. */
    UNPLACEABLE
  }

  /** Validates. */
  public Assignment {
    Objects.requireNonNull(instance, "instance");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(why, "why");
    if ((node == null) != (state == State.UNPLACEABLE)) {
      throw new IllegalArgumentException("assignment of " + instance + ": a " + state + " one "
          + (node == null ? "names a node" : "names no node"));
    }
  }
}
