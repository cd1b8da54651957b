package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The test fixture itself: what it starts it removes, and it reaps what a dead run left, never a live run's. */
class EtcdClusterTest {

  @Test
  void closeEndsEveryMemberAndRemovesItsData() throws Exception {
    EtcdCluster etcd = EtcdCluster.start(1);
    EtcdCluster.Member m = etcd.members().get(0);
    assertThat(m.process().isAlive()).isTrue();
    assertThat(m.dataDir()).isDirectory();
    etcd.close();
    assertThat(m.process().isAlive()).isFalse();
    assertThat(m.dataDir()).doesNotExist();
  }

  @Test
  void aDeadRunsMembersAndFoldersAreReapedAndALiveRunsAreNot() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor(10, TimeUnit.SECONDS);
    String deadRun = gone.pid() + "-dead" + Long.toHexString(System.nanoTime());
    String liveRun = ProcessHandle.current().pid() + "-live" + Long.toHexString(System.nanoTime());
    Path deadDir = EtcdCluster.ROOT.resolve(deadRun + "-m0");
    Path liveDir = EtcdCluster.ROOT.resolve(liveRun + "-m0");
    Files.createDirectories(deadDir);
    Files.createDirectories(liveDir);
    Files.writeString(EtcdCluster.ROOT.resolve(deadRun + ".owner"), Long.toString(gone.pid()));
    Files.writeString(EtcdCluster.ROOT.resolve(liveRun + ".owner"), Long.toString(ProcessHandle.current().pid()));
    // A member the dead run left running, serving clients.
    String client = "http://127.0.0.1:" + EtcdCluster.freePort();
    String peer = "http://127.0.0.1:" + EtcdCluster.freePort();
    Process orphan = new ProcessBuilder(EtcdCluster.ETCD.toString(), "--name", "orphan", "--data-dir",
        deadDir.toString(), "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "orphan=" + peer)
        .redirectErrorStream(true).start();
    BufferedReader log = new BufferedReader(new InputStreamReader(orphan.getInputStream(), StandardCharsets.UTF_8));
    String line;
    do {
      line = log.readLine();
    } while (line != null && !line.contains("ready to serve client requests"));
    assertThat(orphan.isAlive()).as("the orphan member runs").isTrue();
    Thread drain = new Thread(() -> log.lines().forEach(l -> { }));
    drain.setDaemon(true);
    drain.start();
    try {
      try (EtcdCluster etcd = EtcdCluster.start(1)) {
        assertThat(orphan.waitFor(10, TimeUnit.SECONDS)).as("the dead run's member was ended").isTrue();
        assertThat(orphan.exitValue()).as("ended by SIGKILL").isEqualTo(128 + 9);
        assertThat(deadDir).doesNotExist();
        assertThat(EtcdCluster.ROOT.resolve(deadRun + ".owner")).doesNotExist();
        assertThat(liveDir).isDirectory();
        assertThat(etcd.members()).hasSize(1);
      }
    } finally {
      orphan.destroyForcibly();
      Files.deleteIfExists(liveDir);
      Files.deleteIfExists(EtcdCluster.ROOT.resolve(liveRun + ".owner"));
    }
  }
}
