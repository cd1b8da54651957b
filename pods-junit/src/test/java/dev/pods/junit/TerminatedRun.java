package dev.pods.junit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.pods.Deployment;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.Script;
import dev.pods.Unit;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * A test run that is told to stop: runs {@link UntilTerminated} through the JUnit engine; its test prints
 * {@code READY <domain>} once its pod is ready and then waits to be stopped with {@code SIGTERM}, so the extension's
 * shutdown hook, not the end of the run, has to clean up. Started in its own JVM by {@link PodTestSystemIT}.
 */
final class TerminatedRun {
  private TerminatedRun() {}

  @PodTest
  static class UntilTerminated {
    @Deploy static Pod pod = Pod.builder().name("term")
        .unit(Unit.builder().name("vm").image("tiny").memoryMib(192)
            .script(Script.shell(Phase.INITIAL, "echo up\n")).build())
        .build();

    @Test
    void waits(Deployment d) throws InterruptedException {
      System.out.println("READY " + d.instance("vm", 0).domainName());
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  public static void main(String[] args) {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(UntilTerminated.class)).execute();
  }
}
