package dev.pods.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.Deployment;
import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import dev.pods.ImagePolicy;
import dev.pods.Instance;
import dev.pods.InstanceState;
import dev.pods.InstanceStatus;
import dev.pods.MigrationPlan;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodEvents;
import dev.pods.PodSpecException;
import dev.pods.PodsException;
import dev.pods.etcd.ClusterRuntime;
import dev.pods.internal.SafeText;
import dev.pods.template.ParseResult;
import dev.pods.template.Templates;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * {@code pods --etcd ... up/ps/logs/exec/plan/apply/down}: the commands on the pods of a cluster coordinated through
 * etcd, through a {@link ClusterRuntime} made for the command and closed after it (the cluster keeps running every
 * pod). The same output as on one host, plus the node of each instance in {@code ps}. Each method runs one command and
 * returns its exit status ({@link Main#EXIT_STATUS}): 1 also when etcd does not answer (naming the endpoints), 3 for
 * a pod the cluster does not have. Blocks as the command does. One object per command; not thread-safe.
 */
@SuppressWarnings("try") // the event subscriptions only have to live while the command runs
final class ClusterCli {
  private final PrintStream out;
  private final PrintStream err;
  private final EtcdOptions.Target target;

  ClusterCli(PrintStream out, PrintStream err, EtcdOptions.Target target) {
    this.out = out;
    this.err = err;
    this.target = target;
  }

  private interface Command {
    int run(ClusterRuntime cluster) throws IOException, InterruptedException;
  }

  private int with(String command, ImagePolicy policy, Command c) throws IOException, InterruptedException {
    try (Client client = target.client();
        ClusterRuntime cluster = ClusterRuntime.builder(target.keyspace(client)).imagePolicy(policy).build()) {
      return c.run(cluster);
    } catch (PodSpecException e) {
      e.problems().forEach(p -> err.println("pods: " + SafeText.oneLine(p.toString())));
      return 1;
    } catch (PodsException | IllegalStateException e) {
      err.println("pods: " + command + ": cluster at " + String.join(",", target.urls()) + " " + target.prefix() + ": "
          + SafeText.oneLine(String.valueOf(e.getMessage())));
      return 1;
    }
  }

  private int with(String command, Command c) throws IOException, InterruptedException {
    return with(command, ImagePolicy.catalogueOnly(), c);
  }

  private @Nullable Deployment find(ClusterRuntime cluster, String pod) {
    Optional<Deployment> d = cluster.deployment(pod);
    if (d.isEmpty()) {
      err.println("pods: no pod '" + pod + "' in the cluster under " + target.prefix());
      return null;
    }
    return d.get();
  }

  /** {@code up}: deploys the pod; without {@code detach} prints its events until every instance is ready. */
  int up(Pod pod, boolean detach, Duration readyTimeout, ImagePolicy policy) throws IOException, InterruptedException {
    return with("up", policy, cluster -> {
      if (detach) {
        cluster.deploy(pod);
        out.println("pod " + pod.name() + " deployed to the cluster under " + target.prefix());
        return 0;
      }
      try (EventPrinter p = new EventPrinter(out, false, null, Instant::now)) {
        Deployment d = cluster.deploy(pod);
        try (PodEvents.Subscription s = d.events().subscribe(p::event)) {
          d.awaitReady(readyTimeout);
        } catch (PodsException e) {
          p.say("not ready: " + SafeText.oneLine(String.valueOf(e.getMessage())));
          p.say("the cluster keeps the pod; `pods --etcd ... down " + pod.name() + "` removes it");
          return 1;
        }
        p.say("pod " + pod.name() + " is ready in the cluster under " + target.prefix());
      }
      return 0;
    });
  }

  /** {@code ps [--json] [POD]}: the cluster's pods, their instances, states, nodes and addresses. */
  int ps(boolean json, @Nullable String only) throws IOException, InterruptedException {
    return with("ps", cluster -> {
      List<Deployment> pods;
      if (only == null) {
        pods = cluster.deployments();
      } else {
        Deployment d = find(cluster, only);
        if (d == null) {
          return Clients.NOT_UP;
        }
        pods = List.of(d);
      }
      ArrayNode all = Control.JSON.createArrayNode();
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"POD", "INSTANCE", "STATE", "NODE", "PRIVATE", "PUBLIC", "DOMAIN", "WHY"});
      for (Deployment d : pods) {
        ObjectNode p = all.addObject().put("pod", d.pod().name());
        ArrayNode instances = p.putArray("instances");
        for (Instance i : d.instances()) {
          InstanceStatus s = i.status();
          ObjectNode o = instances.addObject().put("name", i.name()).put("state", s.state().name())
              .put("node", cluster.node(d.pod().name(), i.name()).orElse(null))
              .put("private", cluster.node(d.pod().name(), i.name()).isPresent()
                  && s.state() != dev.pods.InstanceState.FAILED ? i.privateAddress().getHostAddress() : null)
              .put("public", i.publicAddress().map(a -> a.getHostAddress()).orElse(null))
              .put("domain", i.domainName().isEmpty() ? null : i.domainName())
              .put("reason", s.reason()).put("since", s.since().toString());
          rows.add(new String[] {d.pod().name(), i.name(), s.state().name().toLowerCase(Locale.ROOT),
              o.path("node").asText("-"), o.path("private").asText("-"), o.path("public").asText("-"),
              o.path("domain").asText("-"), Clients.why(o)});
        }
        if (d.instances().isEmpty()) {
          rows.add(new String[] {d.pod().name(), "-", "no instances", "-", "-", "-", "-", ""});
        }
      }
      if (json) {
        out.println(Control.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(all));
        return 0;
      }
      if (rows.size() == 1) {
        err.println("pods: no pod in the cluster under " + target.prefix());
        return 0;
      }
      boolean anyWhy = rows.stream().skip(1).anyMatch(r -> !r[7].isEmpty());
      Clients.table(out, anyWhy ? rows : rows.stream().map(r -> java.util.Arrays.copyOf(r, 7)).toList());
      return 0;
    });
  }

  /**
   * {@code logs [-f] [--journal KEY] [POD [INSTANCE]]}: the pod's events the cluster still keeps (ten minutes), as
   * {@code up} prints them; {@code -f} then follows new ones until the pod is removed from the cluster and no node
   * runs it (and a second passed without events).
   */
  int logs(boolean follow, @Nullable String journal, @Nullable String podName, @Nullable String instance)
      throws IOException, InterruptedException {
    return with("logs", cluster -> {
      String pod = podName;
      if (pod == null) {
        List<Deployment> all = cluster.deployments();
        if (all.size() != 1) {
          err.println("pods: " + (all.isEmpty() ? "no pod in the cluster under " + target.prefix()
              : "name the pod: the cluster has " + String.join(", ", all.stream().map(d -> d.pod().name())
                  .toList())));
          return Clients.NOT_UP;
        }
        pod = all.get(0).pod().name();
      }
      Deployment d = find(cluster, pod);
      if (d == null) {
        return Clients.NOT_UP;
      }
      LinkedBlockingQueue<PodEvent> later = new LinkedBlockingQueue<>();
      try (EventPrinter p = new EventPrinter(out, false, null, Instant::now);
          PodEvents.Subscription s = d.events().subscribe(later::add)) {
        Set<PodEvent> shown = new HashSet<>();
        for (PodEvent e : cluster.recentEvents(pod)) {
          if (wanted(e, instance, journal)) {
            p.event(e);
          }
          shown.add(e);
        }
        while (follow) {
          PodEvent e = later.poll(1, TimeUnit.SECONDS); // woken by the next event
          if (e != null) {
            if (shown.add(e) && wanted(e, instance, journal)) {
              p.event(e);
            }
          } else if (cluster.deployment(pod).isEmpty()
              && d.instances().stream().allMatch(i -> i.state() == InstanceState.DESTROYED)) {
            break; // a second without events, the pod removed and run nowhere: its last events were printed
          }
        }
      }
      return 0;
    });
  }

  private static boolean wanted(PodEvent e, @Nullable String instance, @Nullable String journal) {
    if (instance != null && !e.instance().equals(instance)) {
      return false;
    }
    if (journal == null) {
      return true;
    }
    return e instanceof PodEvent.JournalLine j && j.key().equals(journal)
        || e instanceof PodEvent.JournalDropped x && x.key().equals(journal);
  }

  /** {@code exec POD INSTANCE [--timeout S] -- CMD...}: runs CMD through the node that runs the instance. */
  int exec(String pod, String instance, long timeoutSeconds, List<String> argv)
      throws IOException, InterruptedException {
    int status = with("exec", cluster -> {
      Deployment d = find(cluster, pod);
      if (d == null) {
        return Clients.EXEC_FAILED;
      }
      Instance i = d.instances().stream().filter(x -> x.name().equals(instance)).findFirst().orElse(null);
      if (i == null) {
        err.println("pods: no instance '" + instance + "' in pod " + pod + " (instances: " + String.join(", ",
            d.instances().stream().map(Instance::name).toList()) + ")");
        return Clients.EXEC_FAILED;
      }
      ExecRequest req = new ExecRequest(argv, null, timeoutSeconds > 0 ? Duration.ofSeconds(timeoutSeconds)
          : ExecRequest.DEFAULT_TIMEOUT);
      ExecResult r;
      try {
        r = i.exec(req);
      } catch (PodsException e) {
        err.println("pods: " + SafeText.oneLine(String.valueOf(e.getMessage())));
        return Clients.EXEC_FAILED;
      }
      out.write(r.stdout());
      out.flush();
      err.write(r.stderr());
      err.flush();
      if (r.timedOut()) {
        err.println("pods: the command timed out in " + instance);
        return 124;
      }
      return r.exitCode();
    });
    return status == 1 ? Clients.EXEC_FAILED : status;
  }

  /** {@code plan POD FILE...}: what applying the templates to the cluster's pod would do; changes nothing. */
  int plan(String pod, List<Path> files, ImagePolicy policy) throws IOException, InterruptedException {
    return with("plan", policy, cluster -> {
      MigrationPlan p = planned(cluster, pod, files, policy);
      return p == null ? 1 : 0;
    });
  }

  /**
   * {@code apply POD FILE... [--yes]}: prints the plan, asks (unless {@code yes}), writes the new pod to the
   * cluster and prints the events until every instance runs it.
   */
  int apply(String pod, List<Path> files, ImagePolicy policy, boolean yes, Main.Confirm confirm)
      throws IOException, InterruptedException {
    return with("apply", policy, cluster -> {
      MigrationPlan p = planned(cluster, pod, files, policy);
      if (p == null) {
        return 1;
      }
      if (p.isEmpty()) {
        out.println("nothing to apply: pod " + pod + " runs these templates already");
        return 0;
      }
      if (!yes) {
        Optional<Boolean> answer = confirm.ask("apply this plan to pod " + pod + "?");
        if (answer.isEmpty()) {
          err.println("pods: apply: no terminal to ask on: nothing was applied; add --yes to apply without asking");
          return Main.USAGE;
        }
        if (!answer.get()) {
          err.println("pods: apply: not applied");
          return 1;
        }
      }
      Deployment d = cluster.deployment(pod).orElseThrow();
      try (EventPrinter printer = new EventPrinter(out, false, null, Instant::now);
          PodEvents.Subscription s = d.events().subscribe(printer::event)) {
        p.apply();
      }
      out.println("applied; pod " + pod + " is ready");
      return 0;
    });
  }

  /** The plan of {@code files} on the cluster's pod, printed; null when a template is invalid (printed). */
  private @Nullable MigrationPlan planned(ClusterRuntime cluster, String pod, List<Path> files, ImagePolicy policy) {
    Deployment d = find(cluster, pod);
    if (d == null) {
      return null;
    }
    Pod next = d.pod();
    boolean bad = false;
    for (Path f : files) {
      ParseResult r = Templates.read(f, policy);
      r.problems().forEach(x -> err.println(SafeText.oneLine(x.toString())));
      if (r.hasErrors()) {
        bad = true;
      } else {
        next = next.withUnit(r.orThrow());
      }
    }
    if (bad) {
      return null;
    }
    MigrationPlan p = d.plan(next);
    out.print(p.toText());
    out.flush();
    return p;
  }

  /** {@code down POD}: removes the pod from the cluster and waits until no node runs it. */
  int down(String pod) throws IOException, InterruptedException {
    return with("down", cluster -> {
      Deployment d = find(cluster, pod);
      if (d == null) {
        return Clients.NOT_UP;
      }
      d.destroy();
      out.println("destroyed pod " + pod);
      return 0;
    });
  }
}
