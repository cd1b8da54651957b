package dev.pods.etcd.internal;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An exec asked of the node that runs an instance, and its answer. The client runtime puts the request at
 * {@code PREFIX/cluster/exec/NODE/ID} (ID: a random UUID) under a lease of the request's timeout plus 30 s; the node
 * watches its own prefix, runs the request on its local instance, and puts the {@link Result} at
 * {@code PREFIX/cluster/exec-result/ID} under the same lease; the client deletes both when it has read the result.
 * Immutable.
 *
 * @param pod the pod
 * @param instance the instance, {@code UNIT-INDEX}
 * @param argv the command
 * @param stdin what the command reads, or null
 * @param timeoutMillis how long the command may run
 */
public record ExecRecord(String pod, String instance, List<String> argv, byte @Nullable [] stdin,
    long timeoutMillis) {
  /** Copies. */
  public ExecRecord {
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(instance, "instance");
    argv = List.copyOf(argv);
  }

  /**
   * The answer: the command's result, or why it could not run ({@code error} set, the rest empty).
   *
   * @param exitCode its exit code
   * @param stdout what it printed
   * @param stderr what it printed on standard error
   * @param timedOut whether it was stopped at its timeout
   * @param error why the node could not run it (the instance is not running there, or not ready: the message of
   *     the local runtime's exception), or null
   */
  public record Result(int exitCode, byte[] stdout, byte[] stderr, boolean timedOut, @Nullable String error) {
    /** Validates. */
    public Result {
      Objects.requireNonNull(stdout, "stdout");
      Objects.requireNonNull(stderr, "stderr");
    }
  }
}
