package dev.pods.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.ConflictException;
import dev.pods.Deployment;
import dev.pods.ImagePolicy;
import dev.pods.MigrationPlan;
import dev.pods.ImageResolver;
import dev.pods.Instance;
import dev.pods.InstanceStatus;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Unit;
import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * {@code pods up}: deploys a pod on this host, prints its events, waits until it is ready and stays attached,
 * answering {@code pods ps/exec/wait/plan/apply/scale/restart/down} on its control socket ({@link Control}) until
 * {@code pods down}, Ctrl-C or SIGTERM, which destroy the deployment. A pod that an earlier up process recorded and
 * did not tear down (it was killed) is adopted with its running instances, and migrated to the templates when they
 * changed, rather than deployed afresh. One instance runs one pod; the JVM's shutdown hook tears down whatever the
 * process deployed and waits for the control requests under way to be answered. Not reusable: one {@link #up} per
 * instance; it blocks until the pod is destroyed.
 */
final class Up {
  static final Duration DEFAULT_READY_TIMEOUT = Duration.ofMinutes(10);

  private final PrintStream out;
  private final PrintStream err;
  private final boolean tty;
  private final Path dataDir;
  private final Object lock = new Object();
  private final CountDownLatch done = new CountDownLatch(1);
  /** Counted down once deployed (an adopted pod: once its changed templates are applied), or once torn down. */
  private final CountDownLatch deployed = new CountDownLatch(1);
  private volatile @Nullable Deployment deployment;
  private @Nullable LocalHost host;
  private Control.@Nullable Server server;
  private @Nullable EventPrinter printer;
  private volatile boolean tornDown;
  private volatile boolean teardownFailed;
  private volatile String phase = "preparing";
  private boolean tiny;
  private ImagePolicy imagePolicy = ImagePolicy.catalogueOnly();
  private Duration readyTimeout = DEFAULT_READY_TIMEOUT;
  /** Plans shown by {@code pods plan/apply}, by id, until applied (the newest few). */
  private final java.util.Map<String, MigrationPlan> plans = new java.util.LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(java.util.Map.Entry<String, MigrationPlan> e) {
      return size() > 16;
    }
  };

  Up(PrintStream out, PrintStream err, boolean tty, Path dataDir) {
    this.out = out;
    this.err = err;
    this.tty = tty;
    this.dataDir = dataDir;
  }

  /** Where the control sockets and log files of up processes are: {@code <data>/cli}. */
  static Path controlDir(Path dataDir) {
    return dataDir.resolve("cli");
  }

  /** The log file of {@code pod}'s latest up. */
  static Path logFile(Path dataDir, String pod) {
    return controlDir(dataDir).resolve(pod + ".log");
  }

  /** Thrown for a command line {@code up} cannot run; the message says why. */
  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /**
   * Runs {@code pod} on this host with {@code options} until it is destroyed ({@code pods down}, a signal, or not
   * ready within {@code readyTimeout}); blocks that long. Returns the exit status.
   */
  int up(Pod pod, LocalHost.Options options, Duration readyTimeout) {
    tiny = options.tiny();
    imagePolicy = options.imagePolicy();
    this.readyTimeout = readyTimeout;
    EventPrinter p;
    try {
      p = new EventPrinter(out, tty, logFile(dataDir, pod.name()), Instant::now);
      server = Control.serve(controlDir(dataDir), pod.name(), (Control.Handler) this::handle, this::replied);
    } catch (IOException e) {
      err.println("pods: " + e.getMessage());
      return 1;
    }
    printer = p;
    Thread hook = new Thread(() -> {
      teardown("stopped by a signal");
      awaitReplies();
      if (teardownFailed) {
        Runtime.getRuntime().halt(1); // the exit status says the teardown failed (its output says what)
      }
    }, "pods-up-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    int status;
    try {
      status = deployAndWait(pod, options, readyTimeout, p);
    } catch (RuntimeException e) {
      p.say("FAILED: " + message(e));
      status = 1;
    }
    teardown(status == 0 ? "pods down" : "the pod did not come up");
    awaitReplies(); // the reply to pods down among them
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down already: the hook tears down
    }
    return teardownFailed ? 1 : status;
  }

  private int deployAndWait(Pod pod, LocalHost.Options options, Duration readyTimeout, EventPrinter p) {
    ImageResolver images = LocalHost.images(options);
    List<String> names = pod.units().stream().map(Unit::image).distinct().toList();
    if (options.tiny()) {
      p.say("--tiny: every unit boots the tiny busybox guest instead of " + String.join(", ", names));
    }
    p.begin(options.tiny() ? "preparing the tiny guest image" : "preparing the guest images " + names);
    LocalHost.prepare(images, options.tiny() ? names.subList(0, 1) : names);
    p.end("guest images ready");
    @Nullable MigrationPlan plan = null;
    synchronized (lock) {
      if (tornDown) {
        return 0;
      }
      // the runtime adopts what an earlier up process of this pod recorded and could not tear down (kill -9, a
      // closed terminal): its instances keep running, with what their guests hold
      host = LocalHost.open(options, pod.name(), images);
      Deployment d = host.runtime().deployment(pod.name()).orElse(null);
      if (d == null) {
        host.close();
        host = null;
        List<String> reaped;
        try {
          reaped = LocalHost.reapLeftovers(options, pod.name());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        if (!reaped.isEmpty()) {
          p.say("removed the leftovers of an earlier pods up of " + pod.name() + " that was killed: " + reaped);
        }
        host = LocalHost.open(options, pod.name(), images);
        phase = "deploying";
        d = host.runtime().deploy(pod);
      } else {
        p.say("adopted pod " + pod.name() + " from an earlier pods up that ended without its teardown: "
            + String.join(", ", d.instances().stream().map(i -> i.name() + " " + i.state().name().toLowerCase(
                java.util.Locale.ROOT)).toList()));
        plan = d.plan(pod);
        phase = plan.isEmpty() ? "deploying" : "changing";
      }
      d.events().subscribe(p::event);
      deployment = d;
      if (plan == null || plan.isEmpty()) {
        deployed.countDown();
      }
    }
    if (plan != null && !plan.isEmpty()) {
      p.say("the templates changed since; applying the plan:");
      plan.toText().lines().forEach(p::say);
      try {
        plan.apply();
        deployed.countDown(); // pods wait waits for the instances from here
      } catch (IllegalStateException e) {
        return 0; // destroyed while applying: pods down or a signal
      } catch (RuntimeException e) {
        p.say("FAILED: " + message(e));
        return 1;
      }
    } else if (plan != null) {
      p.say("the templates are unchanged");
    }
    Deployment d = deployment;
    for (Instance i : d.instances()) {
      p.say(i.name() + ": domain " + i.domainName() + ", private " + i.privateAddress().getHostAddress()
          + i.publicAddress().map(a -> ", public " + a.getHostAddress()).orElse(""));
    }
    try {
      d.awaitReady(readyTimeout);
    } catch (IllegalStateException e) {
      return 0; // destroyed while waiting: pods down or a signal
    } catch (RuntimeException e) {
      p.say("FAILED: " + message(e));
      return 1;
    }
    phase = "ready";
    p.say("ready: " + d.instances().size() + " instances; `pods ps`, `pods logs -f " + pod.name() + "`, `pods exec "
        + pod.name() + " INSTANCE -- CMD`; Ctrl-C or `pods down " + pod.name() + "` destroys the pod");
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /**
   * Waits (up to 10 s) until the control requests under way are answered, so that no client (a {@code pods down}
   * or {@code wait} that came during the teardown) is left without a reply when the process exits.
   */
  private void awaitReplies() {
    Control.Server s = server;
    if (s != null) {
      try {
        s.awaitReplies(Duration.ofSeconds(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String message(Throwable e) {
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  /** Destroys the deployment and closes everything this process opened; idempotent. */
  private void teardown(String why) {
    synchronized (lock) {
      if (tornDown) {
        return;
      }
      tornDown = true;
      phase = "tearing down";
      deployed.countDown();
      EventPrinter p = printer;
      Deployment d = deployment;
      try {
        if (d != null) {
          if (p != null) {
            p.say("tearing down (" + why + ")");
          }
          try {
            d.destroy();
          } catch (RuntimeException e) {
            teardownFailed = true;
            if (p != null) {
              p.say("teardown FAILED: " + message(e));
            }
          }
        }
        if (host != null) {
          host.close();
        }
      } finally {
        if (server != null) {
          server.close();
        }
        if (p != null) {
          if (d != null && !teardownFailed) {
            p.say("destroyed pod " + d.pod().name());
          }
          p.close();
        }
      }
    }
  }

  private ObjectNode handle(ObjectNode req, java.util.function.Consumer<ObjectNode> progress) {
    String op = req.get("op").asText();
    Deployment d = deployment;
    return switch (op) {
      case "plan" -> plan(d, req);
      case "apply" -> change(d, progress, "apply", x -> {
        MigrationPlan plan;
        synchronized (plans) {
          plan = plans.remove(req.path("id").asText());
        }
        if (plan == null) {
          throw new IllegalArgumentException("no such plan: it was applied already, or made for another pods up"
              + " process; run pods plan again");
        }
        say("applying the plan asked for by pods apply:\n" + plan.toText().stripTrailing());
        try {
          plan.apply();
        } catch (ConflictException e) {
          throw new IllegalStateException("the pod changed since the plan was made; nothing was done: run pods plan"
              + " again (" + message(e) + ")", e);
        }
      });
      case "scale" -> change(d, progress, "scale", x -> {
        String unit = req.path("unit").asText();
        int count = req.path("count").asInt(-1);
        say("scaling unit " + unit + " to " + count + " (pods scale)");
        x.scale(unit, count);
      });
      case "restart" -> change(d, progress, "restart", x -> {
        Instance i = instance(x, req.path("instance").asText());
        say("restarting " + i.name() + " (pods restart)");
        i.restart();
      });
      case "ps" -> ps(d);
      case "wait" -> {
        long t0 = System.nanoTime();
        Duration timeout = Duration.ofSeconds(req.path("timeoutSeconds").asLong(DEFAULT_READY_TIMEOUT.toSeconds()));
        try {
          if (!deployed.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            yield Control.error("the pod was not deployed within " + timeout.toSeconds() + " s (" + phase + ")");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          yield Control.error("interrupted");
        }
        Deployment w = deployment;
        if (w == null) {
          yield Control.error("the pod is gone (" + phase + ")");
        }
        Duration left = timeout.minusNanos(System.nanoTime() - t0);
        w.awaitReady(left.isNegative() || left.isZero() ? Duration.ofMillis(1) : left);
        yield Control.ok();
      }
      case "exec" -> exec(d, req);
      case "down" -> {
        teardown("pods down");
        yield teardownFailed ? Control.error("the teardown failed; see the output of pods up") : Control.ok();
      }
      default -> Control.error("unknown op '" + op + "'");
    };
  }

  private void replied(ObjectNode req) {
    // a reply to down is written before the process may exit
    if (req.path("op").asText().equals("down")) {
      done.countDown();
    }
  }

  private ObjectNode ps(@Nullable Deployment d) {
    ObjectNode o = Control.ok().put("pid", ProcessHandle.current().pid()).put("phase", phase).put("tiny", tiny);
    ArrayNode a = o.putArray("instances");
    if (d != null) {
      o.put("pod", d.pod().name());
      for (Instance i : d.instances()) {
        InstanceStatus st = i.status();
        ObjectNode n = a.addObject().put("name", i.name()).put("unit", i.unit()).put("state", st.state().name())
            .put("domain", i.domainName()).put("private", i.privateAddress().getHostAddress())
            .put("since", st.since().toString()).put("reason", st.reason());
        i.publicAddress().ifPresent(x -> n.put("public", x.getHostAddress()));
        st.nextRestart().ifPresent(x -> n.put("restartAt", x.toString()).put("attempt", st.attempt() + 1));
      }
    }
    return o;
  }

  private void say(String message) {
    EventPrinter p = printer;
    if (p != null) {
      p.say(message);
    }
  }

  private static Instance instance(Deployment d, String name) {
    return d.instances().stream().filter(i -> i.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no instance '" + name + "' in pod " + d.pod().name()
            + " (instances: " + String.join(", ", d.instances().stream().map(Instance::name).toList()) + ")"));
  }

  /**
   * {@code plan}: reads the request's template files with this process's image policy, each replacing the unit of
   * its name or adding one, and plans the deployment's migration to that pod; the plan is kept for {@code apply}.
   */
  private ObjectNode plan(@Nullable Deployment d, ObjectNode req) {
    if (d == null || !phase.equals("ready") && !phase.equals("changing")) {
      return Control.error("the pod is not ready for a change yet (" + phase + ")");
    }
    Pod next = d.pod();
    List<String> problems = new ArrayList<>();
    for (JsonNode f : req.path("files")) {
      dev.pods.template.ParseResult r = dev.pods.template.Templates.read(Path.of(f.asText()), imagePolicy);
      r.problems().forEach(p -> problems.add(p.toString()));
      if (!r.hasErrors()) {
        try {
          next = next.withUnit(r.orThrow());
        } catch (dev.pods.PodSpecException e) {
          e.problems().forEach(p -> problems.add(p.toString()));
        }
      }
    }
    if (problems.stream().anyMatch(p -> p.contains(": error: ")) || !req.path("files").isArray()
        || req.path("files").isEmpty()) {
      return Control.error(problems.isEmpty() ? "plan needs template files" : String.join("\n", problems));
    }
    MigrationPlan plan = d.plan(next);
    String id = java.util.UUID.randomUUID().toString();
    synchronized (plans) {
      plans.put(id, plan);
    }
    ObjectNode o = Control.ok().put("id", id).put("empty", plan.isEmpty()).put("text", plan.toText());
    ArrayNode w = o.putArray("warnings");
    problems.forEach(w::add);
    return o;
  }

  /** A change of the deployment: the events go to the client as progress lines until the pod is ready again. */
  @SuppressWarnings("try") // the subscription only has to live while the change runs
  private ObjectNode change(@Nullable Deployment d, java.util.function.Consumer<ObjectNode> progress, String what,
      java.util.function.Consumer<Deployment> action) {
    if (d == null || !phase.equals("ready") && !phase.equals("changing")) {
      return Control.error("the pod is not ready for a change yet (" + phase + ")");
    }
    LineStream lines = new LineStream(l -> progress.accept(Control.JSON.createObjectNode().put("line", l)));
    // the state each instance's last printed event left it in: the feed delivers on its own threads, so the events
    // that led to READY may still be on their way when the waits below return
    java.util.Map<String, dev.pods.InstanceState> printed = new java.util.concurrent.ConcurrentHashMap<>();
    try (EventPrinter p = new EventPrinter(new PrintStream(lines, true, java.nio.charset.StandardCharsets.UTF_8),
            false, null, Instant::now);
        var sub = d.events().subscribe(e -> {
          p.event(e);
          if (e instanceof dev.pods.PodEvent.StateChanged c) {
            synchronized (printed) {
              printed.put(c.instance(), c.to());
              printed.notifyAll();
            }
          }
        })) {
      phase = "changing";
      long t0 = System.nanoTime();
      action.accept(d);
      d.awaitReady(readyTimeout);
      // and every instance ran its reload blocks for the state it is served now (a live change's new scripts)
      Duration left = readyTimeout.minusNanos(System.nanoTime() - t0);
      d.await(dev.pods.Wait.forPhase(dev.pods.Phase.RELOAD), left.isNegative() ? Duration.ofMillis(1) : left);
      awaitPrinted(d, printed);
      say(what + ": the pod is ready again");
      return Control.ok();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (!tornDown) {
        phase = "ready";
      }
    }
  }

  /**
   * Waits (at most 5 s) until the state changes printed for each instance reach the state it is in now, so that the
   * caller's output ends with them rather than before them.
   */
  private static void awaitPrinted(Deployment d, java.util.Map<String, dev.pods.InstanceState> printed) {
    long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    synchronized (printed) {
      while (true) {
        boolean behind = false;
        for (Instance i : d.instances()) {
          dev.pods.InstanceState seen = printed.get(i.name());
          behind |= seen != null && seen != i.state();
        }
        long left = end - System.nanoTime();
        if (!behind || left <= 0) {
          return;
        }
        try {
          printed.wait(Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** An output stream that hands on each line written to it, without its line end. */
  private static final class LineStream extends java.io.OutputStream {
    private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
    private final java.util.function.Consumer<String> sink;

    LineStream(java.util.function.Consumer<String> sink) {
      this.sink = sink;
    }

    @Override
    public synchronized void write(int b) {
      if (b == '\n') {
        sink.accept(line.toString(java.nio.charset.StandardCharsets.UTF_8));
        line.reset();
      } else {
        line.write(b);
      }
    }
  }

  private ObjectNode exec(@Nullable Deployment d, ObjectNode req) {
    if (d == null) {
      return Control.error("the pod is not deployed yet (" + phase + ")");
    }
    Instance inst;
    try {
      inst = instance(d, req.path("instance").asText());
    } catch (IllegalArgumentException e) {
      return Control.error(e.getMessage());
    }
    List<String> argv = new ArrayList<>();
    for (JsonNode n : req.path("argv")) {
      argv.add(n.asText());
    }
    if (argv.isEmpty()) {
      return Control.error("exec needs a command");
    }
    ExecRequest r = new ExecRequest(argv, null,
        Duration.ofSeconds(req.path("timeoutSeconds").asLong(ExecRequest.DEFAULT_TIMEOUT.toSeconds())));
    ExecResult x = inst.exec(r);
    Base64.Encoder b64 = Base64.getEncoder();
    return Control.ok().put("exit", x.exitCode()).put("timedOut", x.timedOut())
        .put("stdout", b64.encodeToString(x.stdout())).put("stderr", b64.encodeToString(x.stderr()));
  }
}
