package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What every {@link InstanceFiles} does, the fake and the qcow2/ISO files alike: a subclass makes fresh, empty
 * instance files ({@link #files()}), reopens the same folder ({@link #reopen()}), as a later runtime would, and
 * gives a base image its {@link InstanceFiles#prepare} accepts ({@link #baseDisk()}).
 */
public abstract class InstanceFilesContract {
  private static final InstanceFiles.Seed SEED = new InstanceFiles.Seed("app-0",
      "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8), "token=t0k\n", Map.of());

  /** New, empty instance files. */
  protected abstract InstanceFiles files();

  /** The instance files {@link #files()} made last, as a later runtime sees them. */
  protected abstract InstanceFiles reopen();

  /** A base image for root overlays. */
  protected abstract Path baseDisk() throws Exception;

  @Test
  void findGivesWhatPrepareMadeAlsoToALaterRuntime() throws Exception {
    InstanceFiles f = files();
    InstanceFiles.Prepared p = f.prepare("t-app-0", SEED, baseDisk(), 0);
    assertThat(p.disk()).isNotNull().exists();
    assertThat(p.seedIso()).exists();
    assertThat(f.find("t-app-0")).contains(p);
    assertThat(reopen().find("t-app-0")).contains(p);
    assertThat(reopen().find("t-app-1")).isEmpty();
  }

  @Test
  void aKeptSeedWithoutItsOverlayIsFoundWithoutADisk() throws Exception {
    InstanceFiles f = files();
    InstanceFiles.Prepared p = f.prepare("t-app-0", SEED, baseDisk(), 0);
    Files.delete(p.disk());
    assertThat(reopen().find("t-app-0")).contains(new InstanceFiles.Prepared(p.dir(), null, p.seedIso(),
        p.consoleLog()));
    InstanceFiles.Prepared diskless = f.prepare("t-app-1", SEED, null, 0);
    assertThat(diskless.disk()).isNull();
    assertThat(reopen().find("t-app-1")).contains(diskless);
  }

  @Test
  void findAfterDeleteIsEmptyAndFindCreatesNothing() throws Exception {
    InstanceFiles f = files();
    InstanceFiles.Prepared p = f.prepare("t-app-0", SEED, baseDisk(), 0);
    f.delete("t-app-0");
    assertThat(f.find("t-app-0")).isEmpty();
    assertThat(p.dir()).doesNotExist();
    assertThat(f.find("t-app-0")).isEmpty();
    assertThat(p.dir()).as("find creates nothing").doesNotExist();
  }

  @Test
  void prepareReplacesWhatAnEarlierOneLeft() throws Exception {
    InstanceFiles f = files();
    f.prepare("t-app-0", SEED, baseDisk(), 0);
    InstanceFiles.Prepared again = f.prepare("t-app-0", SEED, null, 0);
    assertThat(again.disk()).isNull();
    assertThat(reopen().find("t-app-0")).as("the earlier overlay is gone").contains(again);
  }
}
