package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.NetworkException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The behaviour every {@link IpAddressPool} must show. A subclass supplies empty pools. */
public abstract class IpAddressPoolContract {

  /** A new, empty pool of {@code spec} (a name not used before in this test run). */
  protected abstract IpAddressPool newPool(IpPoolSpec spec);

  @Test
  void allocationIsIdempotentPerHolder() {
    IpAddressPool p = newPool(IpPoolSpec.addresses("idem", Cidr.parse("10.70.0.0/24")));
    Cidr a = p.allocate("web-0");
    assertThat(p.allocate("web-0")).isEqualTo(a);
    assertThat(p.lookup("web-0")).contains(a);
    assertThat(p.lookup("web-1")).isEmpty();
    assertThat(a.prefixLength()).isEqualTo(32);
  }

  @Test
  void handsOutEveryUsableAddressOnceThenFails() {
    Cidr range = Cidr.parse("10.71.0.0/28");
    IpAddressPool p = newPool(IpPoolSpec.addresses("small", range, Cidr.parseAddress("10.71.0.1")));
    Set<Cidr> got = new HashSet<>();
    for (int i = 0; i < 13; i++) {
      got.add(p.allocate("h" + i));
    }
    assertThat(got).hasSize(13).doesNotContain(Cidr.parse("10.71.0.0/32"), Cidr.parse("10.71.0.1/32"),
        Cidr.parse("10.71.0.15/32"));
    assertThat(got).allMatch(range::contains);
    assertThatThrownBy(() -> p.allocate("one-too-many")).isInstanceOf(NetworkException.class)
        .hasMessageContaining("exhausted");
    assertThat(p.allocations()).hasSize(13);
  }

  @Test
  void releasedBlocksAreReusedLast() {
    IpAddressPool p = newPool(IpPoolSpec.subnets("subnets", Cidr.parse("10.72.0.0/28"), 30));
    Cidr a = p.allocate("a");
    Cidr b = p.allocate("b");
    assertThat(a.prefixLength()).isEqualTo(30);
    assertThat(a).isNotEqualTo(b);
    assertThat(p.release("a")).isTrue();
    assertThat(p.release("a")).isFalse();
    Cidr c = p.allocate("c");
    Cidr d = p.allocate("d");
    assertThat(List.of(c, d)).doesNotContain(a, b);
    assertThat(p.allocate("e")).isEqualTo(a);
  }

  @Test
  void concurrentAllocationsNeverShareABlock() throws Exception {
    IpAddressPool p = newPool(IpPoolSpec.addresses("busy", Cidr.parse("10.73.0.0/24")));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    ConcurrentHashMap<String, Cidr> got = new ConcurrentHashMap<>();
    List<Future<?>> fs = new ArrayList<>();
    try {
      for (int t = 0; t < 8; t++) {
        int thread = t;
        fs.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < 25; i++) {
            String h = "t" + thread + "-" + i;
            got.put(h, p.allocate(h));
            if (i % 5 == 0) {
              p.release(h);
              got.remove(h);
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(new HashSet<>(got.values())).hasSameSizeAs(got.values());
    assertThat(p.allocations()).isEqualTo(got);
  }
}
