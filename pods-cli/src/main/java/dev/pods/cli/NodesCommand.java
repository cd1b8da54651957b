package dev.pods.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.pods.PodsException;
import dev.pods.etcd.NodeStatus;
import dev.pods.etcd.Nodes;
import io.etcd.jetcd.Client;
import java.net.Inet4Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pods nodes --etcd URL[,URL...] [--etcd-prefix P] [--timeout S] [--json]}: the nodes of a cluster coordinated
 * through etcd ({@link Nodes#list()}), with their address, CPUs, memory, free memory, instances, health and which one
 * leads. Exit status 0, or 1 when etcd gives no answer within the timeout or fails the request (the message names
 * the endpoints and etcd's answer).
 */
@Command(name = "nodes", description = "the nodes of a cluster in etcd: address, capacity, load, instances, health,"
    + " leader")
final class NodesCommand extends PodsCommand {
  @Mixin EtcdOptions.Required cluster;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
      description = "give up when etcd does not answer within this many seconds (default: ${DEFAULT-VALUE})")
  int timeoutSeconds = 10;

  @Option(names = "--json", description = "print the nodes as a JSON array")
  boolean json;

  @Override
  public Integer call() throws JsonProcessingException, Up.UsageException {
    EtcdOptions.Target target = cluster.target("nodes");
    if (timeoutSeconds < 1) {
      throw usage("--timeout must be at least 1 second, not " + timeoutSeconds);
    }
    List<NodeStatus> nodes;
    try (Client client = target.client()) {
      nodes = new ArrayList<>(new Nodes(target.keyspace(client, Duration.ofSeconds(timeoutSeconds))).list());
    } catch (PodsException e) {
      err().println("pods: nodes: etcd at " + String.join(",", target.urls()) + ": "
          + dev.pods.internal.SafeText.oneLine(String.valueOf(e.getMessage())));
      return 1;
    }
    nodes.sort(Comparator.comparing(NodeStatus::name));
    if (json) {
      List<Map<String, Object>> all = new ArrayList<>();
      for (NodeStatus n : nodes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", n.name());
        m.put("address", n.address());
        m.put("underlay", dotted(n.underlay()));
        m.put("cpus", n.cpus());
        m.put("memoryMib", n.memoryMib());
        m.put("freeMemoryMib", n.freeMemoryMib());
        m.put("assignedCpus", n.assignedCpus());
        m.put("assignedMemoryMib", n.assignedMemoryMib());
        m.put("instances", n.instances());
        m.put("health", n.health().name());
        m.put("leader", n.leader());
        all.add(m);
      }
      out().println(Control.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(all));
      return 0;
    }
    if (nodes.isEmpty()) {
      out().println("no nodes under " + target.prefix());
      return 0;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"NODE", "ADDRESS", "CPUS", "MEMORY", "FREE", "HEALTH", "LEADER", "INSTANCES"});
    for (NodeStatus n : nodes) {
      rows.add(new String[] {n.name(), n.address(), n.assignedCpus() + "/" + n.cpus(),
          n.assignedMemoryMib() + "/" + n.memoryMib() + " MiB",
          n.health() == NodeStatus.Health.READY ? n.freeMemoryMib() + " MiB" : "-", n.health().name(),
          n.leader() ? "yes" : "-", n.instances().isEmpty() ? "-" : String.join(",", n.instances())});
    }
    Clients.table(out(), rows);
    return 0;
  }

  private static @Nullable String dotted(@Nullable Inet4Address a) {
    return a == null ? null : a.getHostAddress();
  }
}
