package dev.pods.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.DomainBoot;
import dev.pods.spi.DomainMetadata;
import dev.pods.spi.DomainSpec;
import dev.pods.testing.InMemoryHypervisor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Owner labels and the reaping of dead runs' leftovers, on the in-memory hypervisor and run folders in a
 * temporary directory (no run folder here has networks, so no network driver is involved).
 */
class RunReapingTest {
  @TempDir Path root;
  private InMemoryHypervisor hv;

  @BeforeEach
  void setUp() {
    hv = InMemoryHypervisor.create();
  }

  @AfterEach
  void tearDown() {
    hv.close();
  }

  /** A pid that was used by a process of ours and is free now. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  private void domain(String name, String owner) throws Exception {
    Path kernel = Files.writeString(root.resolve("vmlinuz"), "k");
    hv.define(DomainSpec.builder(name)
        .metadata(new DomainMetadata(owner, "pod", "unit", 0, "hash"))
        .memoryMib(128)
        .boot(DomainBoot.kernel(kernel, null, "console=ttyS0"))
        .build());
    hv.start(name);
  }

  private Path runFolder(String prefix, String owner) throws Exception {
    Path d = Files.createDirectories(root.resolve(prefix));
    Files.writeString(d.resolve("owner"), owner + "\n");
    Files.createDirectories(d.resolve("instances/" + prefix + "-shop-1-app-0"));
    return d;
  }

  @Test
  void aLabelNamesTheJvmByPidAndStartTime() throws Exception {
    RunOwner me = RunOwner.current("pjab12");
    assertThat(me.label()).matches("pods-junit-" + ProcessHandle.current().pid() + "-\\d+-pjab12");
    assertThat(RunOwner.parse(me.label())).contains(me);
    assertThat(me.isDead()).isFalse();
    assertThat(RunOwner.isDeadLabel(me.label())).isFalse();

    // the same pid with another start time: the pid was reused by another process
    assertThat(new RunOwner(me.pid(), me.startMillis() - 1000, "pjab12").isDead()).isTrue();
    assertThat(new RunOwner(deadPid(), me.startMillis(), "pjab12").isDead()).isTrue();

    assertThat(RunOwner.parse("dev.pods/local=/var/lib/pods")).isEmpty();
    assertThat(RunOwner.parse("pods-junit-12-34-PJ")).isEmpty();
    assertThat(RunOwner.isDeadLabel("dev.pods/session=1234")).isFalse();
  }

  @Test
  void theLocalFactoryListsEveryMissingCommandWithItsPackage() throws Exception {
    Path bin = Files.createDirectories(root.resolve("bin"));
    for (String c : new String[] {"ip", "nft"}) {
      Files.writeString(bin.resolve(c), "#!/bin/sh\n");
      assertThat(bin.resolve(c).toFile().setExecutable(true)).isTrue();
    }
    Files.writeString(bin.resolve("dnsmasq"), "not executable");

    List<String> missing = LocalRuntimeFactory.missingTools(bin.toString());
    assertThat(missing).hasSize(4).startsWith(
        "dnsmasq (Debian package dnsmasq-base)", "qemu-img (Debian package qemu-utils)",
        "genisoimage (Debian package genisoimage)");
    assertThat(missing.get(3)).matches("qemu-system-\\w+ \\(Debian package qemu-system\\)");
    assertThat(LocalRuntimeFactory.missingTools(root.resolve("none") + ":" + bin)).hasSize(4);
  }

  @Test
  void reapingRemovesTheDomainsAndFoldersOfDeadRunsOnly() throws Exception {
    long start = RunOwner.current("x").startMillis();
    String dead = new RunOwner(deadPid(), start, "pjdead").label();
    String deadWithoutFolder = new RunOwner(deadPid(), start, "pjgone").label();
    String live = RunOwner.current("pjlive").label();
    domain("pjdead-shop-1-app-0", dead);
    domain("pjgone-shop-1-app-0", deadWithoutFolder);
    domain("pjlive-shop-1-app-0", live);
    domain("other-app-0", "dev.pods/local=/var/lib/pods");
    Path deadFolder = runFolder("pjdead", dead);
    Path liveFolder = runFolder("pjlive", live);
    Path fresh = Files.createDirectories(root.resolve("pjnew1"));
    Path stale = Files.createDirectories(root.resolve("pjold1"));
    Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(1))));

    LocalRuntimeFactory.reapDeadRuns(root, hv);

    assertThat(hv.domainNames()).containsExactlyInAnyOrder("pjlive-shop-1-app-0", "other-app-0");
    assertThat(deadFolder).doesNotExist();
    assertThat(liveFolder.resolve("instances/pjlive-shop-1-app-0")).isDirectory();
    assertThat(fresh).as("a folder being set up right now").isDirectory();
    assertThat(stale).as("a folder whose run died before writing its owner").doesNotExist();
  }
}
