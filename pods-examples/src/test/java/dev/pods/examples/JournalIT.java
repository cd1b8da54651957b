package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.BootImage;
import dev.pods.Deployment;
import dev.pods.Instance;
import dev.pods.Phase;
import dev.pods.Pod;
import dev.pods.PodEvent;
import dev.pods.PodsException;
import dev.pods.Script;
import dev.pods.Unit;
import dev.pods.kvm.GuestImages;
import dev.pods.spec.Journal;
import dev.pods.spec.JournalInput;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A {@code file} journal input in a real tiny guest ({@link RuntimeRig}): lines the initial block appends and
 * lines appended later arrive as {@link PodEvent.JournalLine} events tagged with the instance and key, and in
 * {@link Instance#journal(String)}.
 */
@Tag("system")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class JournalIT {
  private static final java.nio.file.Path RUN_ROOT = java.nio.file.Path.of("/tmp/pods-journal-it");
  private static final String OWNER_PREFIX = "podsjl-owner-";

  @Test
  void aFileJournalsLinesArriveAsEvents() throws Exception {
    HostTools.assumeVmHost();
    HostTools.reapDeadRuns(RUN_ROOT, "pj", OWNER_PREFIX, "rig");
    GuestImages.Tiny tiny = GuestImages.configured().tiny();
    List<PodEvent> events = new CopyOnWriteArrayList<>();
    List<String> domains = new ArrayList<>();
    RuntimeRig rig = RuntimeRig.start(RUN_ROOT, "pj", OWNER_PREFIX, image -> {
      if (!image.equals("tiny")) {
        throw new PodsException("this test only knows the image 'tiny', not '" + image + "'");
      }
      return BootImage.kernel(tiny.kernel(), tiny.initrd(), tiny.cmdline(""));
    });
    try {
      Pod pod = Pod.builder().name("jl").unit(Unit.builder().name("app").image("tiny").memoryMib(192)
          .journal(new Journal("app-logs", List.of(new JournalInput("app", JournalInput.Type.FILE, null,
              "/var/log/app.log"))))
          .script(Script.shell(Phase.INITIAL, "for i in 1 2 3; do echo \"started $i\" >> /var/log/app.log; done\n"))
          .build()).build();
      Deployment d = rig.runtime.deploy(pod);
      CountDownLatch later = new CountDownLatch(1);
      d.events().subscribe(e -> {
        events.add(e);
        if (e instanceof PodEvent.JournalLine j && j.line().equals("later line")) {
          later.countDown();
        }
      });
      Instance app = d.instance("app", 0);
      domains.add(app.domainName());
      try {
        d.awaitReady(Duration.ofMinutes(4));
        app.exec("sh", "-c", "echo 'later line' >> /var/log/app.log");
        assertThat(later.await(30, TimeUnit.SECONDS)).as("the later line arrived").isTrue();
        assertThat(events).filteredOn(PodEvent.JournalLine.class::isInstance).map(PodEvent.JournalLine.class::cast)
            .extracting(j -> j.instance() + " " + j.key() + " " + j.line())
            .containsExactly("app-0 app started 1", "app-0 app started 2", "app-0 app started 3",
                "app-0 app later line");
        assertThat(app.journal("app")).containsExactly("started 1", "started 2", "started 3", "later line");
        assertThat(app.journal("other")).isEmpty();
        assertThat(events).noneMatch(PodEvent.JournalDropped.class::isInstance);
      } catch (Throwable t) {
        System.out.println("==== console ====\n" + app.consoleOutput());
        System.out.println("==== events ====\n" + String.join("\n", events.stream().map(Object::toString).toList()));
        throw t;
      } finally {
        d.destroy();
      }
    } finally {
      rig.close();
    }
    assertThat(rig.leftovers(domains)).as("left behind").isEmpty();
  }
}
