package dev.pods.etcd;

import io.etcd.jetcd.Client;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A node in a process of its own, for {@link ClusterTest}'s SIGKILL case: joins the cluster, prints {@code joined},
 * then {@code start ID} and {@code stop ID} for what its host starts and stops, until it is killed.
 *
 * <p>Arguments: prefix, name, lease seconds, endpoints...
 */
public final class NodeMain {
  private NodeMain() {}

  /** Runs one node; see the class comment. */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
        StandardCharsets.UTF_8);
    LocalInstances host = new LocalInstances() {
      private final RecordingInstances inner = new RecordingInstances();

      @Override
      public Set<String> running() {
        return inner.running();
      }

      @Override
      public void start(Assignment a) {
        inner.start(a);
        out.println("start " + a.instance());
      }

      @Override
      public void stop(String instance) {
        inner.stop(instance);
        out.println("stop " + instance);
      }
    };
    List<String> endpoints = List.of(args).subList(3, args.length);
    try (Client client = Client.builder().endpoints(endpoints.toArray(String[]::new)).build();
        ClusterNode node = ClusterNode.join(EtcdKeyspace.of(client, args[0]),
            new NodeSpec(args[1], args[1], 4, 4096), host, Duration.ofSeconds(Long.parseLong(args[2])))) {
      out.println("joined " + node.name());
      Thread.currentThread().join(); // until killed
    }
  }
}
