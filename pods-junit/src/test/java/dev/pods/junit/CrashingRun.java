package dev.pods.junit;

import dev.pods.Deployment;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.Script;
import dev.pods.Unit;
import java.time.Duration;

/**
 * A test run that dies: deploys one tiny guest with the {@link LocalRuntimeFactory}, prints {@code READY <domain>}
 * once it is ready, and waits to be killed ({@code SIGKILL}, so neither JUnit nor a shutdown hook cleans up). Started
 * in its own JVM by {@link PodTestSystemIT}.
 */
final class CrashingRun {
  private CrashingRun() {}

  public static void main(String[] args) throws Exception {
    PodRuntime runtime = new LocalRuntimeFactory().create();
    Deployment d = runtime.deploy(Pod.builder().name("crash")
        .unit(Unit.builder().name("vm").image("tiny").memoryMib(192)
            .script(Script.shell(Phase.INITIAL, "echo up\n")).build())
        .build());
    d.awaitReady(Duration.ofMinutes(5));
    System.out.println("READY " + d.instance("vm", 0).domainName());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
