package dev.pods.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code pods node}'s usage errors: each wrong command line exits 2 naming what is wrong, before anything is built
 * or any etcd member is asked (joining and leaving on the real host is {@code NodeCommandIT}).
 */
class NodeCommandTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final Main main = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
      new PrintStream(err, true, StandardCharsets.UTF_8));

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private void usage(String expected, String... args) {
    err.reset();
    assertThat(main.run(args)).as(err()).isEqualTo(2);
    assertThat(err()).contains(expected);
    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("joined");
  }

  @Test
  void wrongCommandLinesExit2NamingTheProblem() {
    String etcd = "http://127.0.0.1:2379";
    usage("Missing required options: '--etcd=URL', '--name=N'", "node");
    usage("Missing required option: '--name=N'", "node", "--etcd", etcd);
    usage("--etcd: '127.0.0.1:2379' is not http(s)://HOST:PORT", "node", "--etcd", "127.0.0.1:2379", "--name", "h1");
    usage("node name 'h 1' is not 1-63 letters", "node", "--etcd", etcd, "--name", "h 1");
    usage("--underlay takes an IPv4 address, not '10.0.0'", "node", "--etcd", etcd, "--name", "h1", "--underlay",
        "10.0.0");
    usage("--node-address takes an IPv4 address, not 'x'", "node", "--etcd", etcd, "--name", "h1",
        "--node-address", "x");
    usage("--prefix must be 1..12 lower-case letters or digits", "node", "--etcd", etcd, "--name", "h1",
        "--prefix", "Bad");
    usage("--lease must be at least 2 seconds, not 1", "node", "--etcd", etcd, "--name", "h1", "--lease", "1");
    usage("offers at least 1 CPU and 1 MiB", "node", "--etcd", etcd, "--name", "h1", "--cpus", "0");
    usage("a public network needs --uplink BRIDGE and --public-range CIDR", "node", "--etcd", etcd, "--name",
        "h1", "--public-range", "198.51.100.0/24");
    usage("--etcd-prefix: etcd prefix 'pods' is not of the form /name", "node", "--etcd", etcd, "--name", "h1",
        "--etcd-prefix", "pods");
    usage("--public-gateway takes an IPv4 address, not '198.51.100'", "node", "--etcd", etcd, "--name", "h1",
        "--uplink", "br0", "--public-range", "198.51.100.0/24", "--public-gateway", "198.51.100");
  }

  @Test
  void prefixIsTheNamePrefixAndTheOldSpellingsAreUnknownOptions() {
    String etcd = "http://127.0.0.1:2379";
    // --prefix names what this host creates: an etcd key prefix is not a name prefix
    usage("node: --prefix must be 1..12 lower-case letters or digits, starting with a letter, not '/pods'", "node",
        "--etcd", etcd, "--name", "h1", "--prefix", "/pods");
    usage("node: Unknown options: '--prefix-names', 'p1'", "node", "--etcd", etcd, "--name", "h1", "--prefix-names", "p1");
    usage("node: Unknown options: '--public-bridge', 'br0'", "node", "--etcd", etcd, "--name", "h1", "--public-bridge",
        "br0", "--public-range", "198.51.100.0/24");
  }
}
