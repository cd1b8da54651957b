package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.NetworkException;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpAddressPoolContract;
import dev.pods.spi.IpPoolSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileIpAddressPoolTest extends IpAddressPoolContract {
  @TempDir Path dir;

  @Override
  protected IpAddressPool newPool(IpPoolSpec spec) {
    return FileIpAddressPool.open(dir, spec);
  }

  @Test
  void allocationsSurviveReopeningAndLeaveNoTemporaryFiles() throws Exception {
    IpPoolSpec spec = IpPoolSpec.addresses("persist", Cidr.parse("10.74.0.0/24"));
    IpAddressPool first = FileIpAddressPool.open(dir, spec);
    Cidr a = first.allocate("a");
    Cidr b = first.allocate("b");
    first.release("a");
    IpAddressPool second = FileIpAddressPool.open(dir, spec);
    assertThat(second.allocations()).containsExactly(Map.entry("b", b));
    assertThat(second.allocate("c")).isNotIn(a, b);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("persist.json",
          "persist.lock");
    }
  }

  @Test
  void anotherSpecUnderTheSameNameIsRefused() {
    FileIpAddressPool.open(dir, IpPoolSpec.addresses("named", Cidr.parse("10.75.0.0/24")));
    assertThatThrownBy(() -> FileIpAddressPool.open(dir, IpPoolSpec.addresses("named", Cidr.parse("10.75.0.0/25"))))
        .isInstanceOf(NetworkException.class).hasMessageContaining("another spec");
  }

  /**
   * Two processes allocate from one pool at the same time, and the child is killed at a random moment (a crash
   * between allocating and using): no block is ever held twice, and every allocation the child reported as done is
   * still held by it.
   */
  @Test
  void processesSharingThePoolNeverShareABlockEvenWhenOneIsKilled() throws Exception {
    IpPoolSpec spec = IpPoolSpec.addresses("shared", Cidr.parse("10.76.0.0/22"));
    FileIpAddressPool parent = FileIpAddressPool.open(dir, spec);
    Path done = dir.resolve("child.out");
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), IpamChild.class.getName(), dir.toString(), "800")
        .redirectOutput(done.toFile()).redirectErrorStream(true).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (Files.readAllLines(done).size() < 5 && System.nanoTime() < deadline && child.isAlive()) {
      Thread.sleep(20);
    }
    Map<String, Cidr> mine = new HashMap<>();
    for (int i = 0; i < 100; i++) {
      mine.put("p" + i, parent.allocate("p" + i));
    }
    child.destroyForcibly();
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    Map<String, Cidr> all = FileIpAddressPool.open(dir, spec).allocations();
    assertThat(new HashSet<>(all.values())).hasSameSizeAs(all.values());
    assertThat(all).containsAllEntriesOf(mine);
    List<String> reported = new ArrayList<>(Files.readAllLines(done));
    reported.removeIf(l -> !l.startsWith("c"));
    for (String line : reported) {
      String[] kv = line.split(" ");
      assertThat(all).containsEntry(kv[0], Cidr.parse(kv[1]));
    }
    assertThat(reported).as("the child allocated something before it was killed").isNotEmpty();
  }

  /** The child process of the test above: allocates {@code n} addresses and prints each as it returns. */
  public static final class IpamChild {
    private IpamChild() {}

    /** Arguments: the pool directory and the number of allocations. */
    public static void main(String[] args) {
      IpPoolSpec spec = IpPoolSpec.addresses("shared", Cidr.parse("10.76.0.0/22"));
      FileIpAddressPool pool = FileIpAddressPool.open(Path.of(args[0]), spec);
      for (int i = 0; i < Integer.parseInt(args[1]); i++) {
        Cidr c = pool.allocate("c" + i);
        System.out.println("c" + i + " " + c);
        System.out.flush();
      }
    }
  }
}
