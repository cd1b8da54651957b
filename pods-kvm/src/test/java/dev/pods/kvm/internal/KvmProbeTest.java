package dev.pods.kvm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.kvm.internal.KvmProbe.Outcome;
import dev.pods.spi.Acceleration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KVM probe's decisions as pure functions, and its cache (KVM itself cannot be shown on this machine). */
class KvmProbeTest {
  @TempDir Path dir;

  @Test
  void theBannerMeansKvmAStoppedGuestMeansNoKvmAndOnlyTheDeadlineMeansTimedOut() {
    assertThat(KvmProbe.observe(true, true, false)).isEqualTo(Outcome.KVM_RUNS);
    assertThat(KvmProbe.observe(true, false, true)).isEqualTo(Outcome.KVM_RUNS);
    assertThat(KvmProbe.observe(false, false, false)).isEqualTo(Outcome.KVM_FAILS);
    assertThat(KvmProbe.observe(false, false, true)).isEqualTo(Outcome.KVM_FAILS);
    assertThat(KvmProbe.observe(false, true, true)).isEqualTo(Outcome.TIMED_OUT);
    assertThat(KvmProbe.observe(false, true, false)).isNull();
  }

  @Test
  void onlyAVerdictIsCompletedAndOnlyKvmSeenWorkingUsesKvm() {
    assertThat(Arrays.stream(Outcome.values()).filter(Outcome::completed))
        .containsExactlyInAnyOrder(Outcome.KVM_RUNS, Outcome.KVM_FAILS);
    assertThat(Arrays.stream(Outcome.values()).filter(o -> o.acceleration() == Acceleration.KVM))
        .containsExactly(Outcome.KVM_RUNS);
  }

  @Test
  void theKeyChangesWithTheKernelReleaseQemuVersionAndProbeKernelAndIsAbsentWhenOneIsUnknown() {
    Path k = Path.of("/var/cache/pods/images/tiny/vmlinuz");
    String key = KvmProbe.cacheKey("7002007", "6.1.0-28-amd64", k, 8_000_000);
    assertThat(key).isNotNull().isEqualTo(KvmProbe.cacheKey("7002007", "6.1.0-28-amd64", k, 8_000_000));
    assertThat(KvmProbe.cacheKey("8002000", "6.1.0-28-amd64", k, 8_000_000)).isNotEqualTo(key);
    assertThat(KvmProbe.cacheKey("7002007", "6.1.0-29-amd64", k, 8_000_000)).isNotEqualTo(key);
    assertThat(KvmProbe.cacheKey("7002007", "6.1.0-28-amd64", Path.of("/other/vmlinuz"), 8_000_000))
        .isNotEqualTo(key);
    assertThat(KvmProbe.cacheKey("7002007", "6.1.0-28-amd64", k, 8_000_001)).isNotEqualTo(key);
    assertThat(KvmProbe.cacheKey(null, "6.1.0-28-amd64", k, 1)).isNull();
    assertThat(KvmProbe.cacheKey("7002007", null, k, 1)).isNull();
    assertThat(KvmProbe.cacheKey("7002007", " ", k, 1)).isNull();
    assertThat(KvmProbe.cacheKey("7002007", "6.1", k, -1)).isNull();
  }

  @Test
  void aStoredVerdictIsFoundUnderItsKeyOnlyAndSurvivesTheProcessInItsFile() throws Exception {
    String key = KvmProbe.cacheKey("1", "test-" + System.nanoTime(), Path.of("/k"), 1);
    String other = KvmProbe.cacheKey("2", "test-" + System.nanoTime(), Path.of("/k"), 1);
    assertThat(KvmProbe.cached(dir, key)).isNull();

    KvmProbe.store(dir, key, Acceleration.TCG);

    assertThat(KvmProbe.cached(dir, key)).isEqualTo(Acceleration.TCG);
    assertThat(KvmProbe.cached(dir, other)).isNull();
    assertThat(Files.readString(dir.resolve("kvm-probe-" + key + ".txt"))).isEqualTo("TCG");
    // another process (no memory of this one) reads the file
    Path copy = Files.createDirectories(dir.resolve("copy"));
    Files.copy(dir.resolve("kvm-probe-" + key + ".txt"), copy.resolve("kvm-probe-" + key + ".txt"));
    assertThat(KvmProbe.cached(copy, key)).isEqualTo(Acceleration.TCG);
    Files.writeString(copy.resolve("kvm-probe-" + other + ".txt"), "garbage");
    assertThat(KvmProbe.cached(copy, other)).isNull();
  }
}
