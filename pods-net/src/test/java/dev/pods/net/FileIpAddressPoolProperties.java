package dev.pods.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;
import dev.pods.net.internal.AtomicFiles;

/** IPAM uniqueness: random allocate/release sequences, sequential against a model and concurrent across threads. */
class FileIpAddressPoolProperties {
  private Path dir;

  @BeforeTry
  void makeDir() throws IOException {
    dir = Files.createTempDirectory("pods-ipam-prop");
  }

  @AfterTry
  void removeDir() throws IOException {
    AtomicFiles.deleteTree(dir);
  }

  /** An operation: allocate (true) or release (false) for holder h0..h19. */
  record Op(boolean allocate, int holder) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op = Arbitraries.integers().between(0, 19).flatMap(
        h -> Arbitraries.of(true, true, false).map(a -> new Op(a, h)));
    return op.list().ofMaxSize(60);
  }

  @Property(tries = 40)
  void sequencesNeverDuplicateAndMatchTheModel(@ForAll("ops") List<Op> ops,
      @ForAll @IntRange(min = 28, max = 30) int prefix) {
    IpPoolSpec spec = IpPoolSpec.addresses("seq", new Cidr(Cidr.toInt(Cidr.parseAddress("10.80.0.0")), prefix));
    IpAddressPool pool = FileIpAddressPool.open(dir, spec);
    Map<String, Cidr> model = new HashMap<>();
    for (Op op : ops) {
      String h = "h" + op.holder();
      if (op.allocate()) {
        if (model.size() >= spec.blockCount() - 2 && !model.containsKey(h)) {
          continue; // full: exhaustion is covered by the contract suite
        }
        Cidr got = pool.allocate(h);
        Cidr before = model.putIfAbsent(h, got);
        assertThat(before == null ? got : before).isEqualTo(got);
      } else {
        assertThat(pool.release(h)).isEqualTo(model.remove(h) != null);
      }
      assertThat(new HashSet<>(model.values())).hasSameSizeAs(model.values());
    }
    assertThat(FileIpAddressPool.open(dir, spec).allocations()).isEqualTo(model);
  }

  @Property(tries = 15)
  void concurrentUseNeverHandsOneBlockToTwoHolders(@ForAll("ops") List<Op> ops,
      @ForAll @IntRange(min = 2, max = 6) int threads) throws Exception {
    IpPoolSpec spec = IpPoolSpec.addresses("conc", Cidr.parse("10.81.0.0/24"));
    ConcurrentHashMap<Cidr, String> heldBy = new ConcurrentHashMap<>();
    ExecutorService exec = Executors.newFixedThreadPool(threads);
    List<Future<?>> fs = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        int thread = t;
        // every thread uses its own holders (a holder is one instance, handled by one caller at a time)
        IpAddressPool pool = FileIpAddressPool.open(dir, spec);
        fs.add(exec.submit(() -> {
          for (Op op : ops) {
            String h = "t" + thread + "h" + op.holder();
            if (op.allocate()) {
              Cidr got = pool.allocate(h);
              String prev = heldBy.putIfAbsent(got, h);
              assertThat(prev == null ? h : prev).as("holder of " + got).isEqualTo(h);
            } else {
              pool.lookup(h).ifPresent(c -> heldBy.remove(c, h));
              pool.release(h);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      exec.shutdownNow();
    }
    Map<String, Cidr> all = FileIpAddressPool.open(dir, spec).allocations();
    assertThat(new HashSet<>(all.values())).hasSameSizeAs(all.values());
    Map<String, Cidr> expected = new HashMap<>();
    heldBy.forEach((c, h) -> expected.put(h, c));
    assertThat(all).isEqualTo(expected);
  }
}
