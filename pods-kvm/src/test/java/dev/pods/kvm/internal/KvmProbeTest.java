package dev.pods.kvm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pods.kvm.internal.KvmProbe.Outcome;
import dev.pods.kvm.internal.KvmProbe.Seen;
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
  void theBannerWinsAStoppedGuestIsSeenAndOnlyTheDeadlineMeansNothingInTime() {
    assertThat(KvmProbe.observe(true, true, false)).isEqualTo(Seen.BANNER);
    assertThat(KvmProbe.observe(true, false, true)).isEqualTo(Seen.BANNER);
    assertThat(KvmProbe.observe(false, false, false)).isEqualTo(Seen.STOPPED);
    assertThat(KvmProbe.observe(false, false, true)).isEqualTo(Seen.STOPPED);
    assertThat(KvmProbe.observe(false, true, true)).isEqualTo(Seen.NOTHING_IN_TIME);
    assertThat(KvmProbe.observe(false, true, false)).isNull();
  }

  @Test
  void noBannerUnderKvmIsAVerdictOnlyWhenTheSameKernelBootsUnderTcgInTime() {
    assertThat(KvmProbe.conclude(Seen.BANNER, null)).isEqualTo(Outcome.KVM_RUNS);
    assertThat(KvmProbe.conclude(Seen.STOPPED, Seen.BANNER)).isEqualTo(Outcome.KVM_FAILS);
    // the kernel does not boot under TCG either: the probe is broken, not KVM
    assertThat(KvmProbe.conclude(Seen.STOPPED, Seen.STOPPED)).isEqualTo(Outcome.FAILED);
    assertThat(KvmProbe.conclude(Seen.STOPPED, Seen.NOTHING_IN_TIME)).isEqualTo(Outcome.FAILED);
    assertThat(KvmProbe.conclude(Seen.NOTHING_IN_TIME, Seen.BANNER)).isEqualTo(Outcome.KVM_HANGS);
    // TCG too saw nothing in time, or could not run: the host is too busy (or broken) to tell
    assertThat(KvmProbe.conclude(Seen.NOTHING_IN_TIME, Seen.NOTHING_IN_TIME)).isEqualTo(Outcome.TIMED_OUT);
    assertThat(KvmProbe.conclude(Seen.NOTHING_IN_TIME, Seen.FAILED)).isEqualTo(Outcome.TIMED_OUT);
    assertThat(KvmProbe.conclude(Seen.NOTHING_IN_TIME, Seen.STOPPED)).isEqualTo(Outcome.TIMED_OUT);
    assertThat(KvmProbe.conclude(Seen.NOTHING_IN_TIME, Seen.INTERRUPTED)).isEqualTo(Outcome.INTERRUPTED);
    assertThat(KvmProbe.conclude(Seen.INTERRUPTED, null)).isEqualTo(Outcome.INTERRUPTED);
    assertThat(KvmProbe.conclude(Seen.FAILED, null)).isEqualTo(Outcome.FAILED);
    for (Seen kvm : Seen.values()) {
      for (Seen tcg : Seen.values()) {
        Outcome o = KvmProbe.conclude(kvm, tcg);
        // never KVM unless its banner was seen; a verdict only from a probe that ran to its end
        assertThat(o == Outcome.KVM_RUNS).isEqualTo(kvm == Seen.BANNER);
        assertThat(o.completed()).isEqualTo(kvm == Seen.BANNER
            || ((kvm == Seen.STOPPED || kvm == Seen.NOTHING_IN_TIME) && tcg == Seen.BANNER));
      }
    }
  }

  @Test
  void theTcgControlGetsSixTimesTheKvmTimeoutAndAtLeastAMinute() {
    assertThat(KvmProbe.controlTimeout(java.time.Duration.ofSeconds(10))).isEqualTo(java.time.Duration.ofMinutes(1));
    assertThat(KvmProbe.controlTimeout(java.time.Duration.ofSeconds(30))).isEqualTo(java.time.Duration.ofMinutes(3));
  }

  @Test
  void anInconclusiveProbeIsRetriedInTheSameProcessOnlyAfterTheRetryDelay() {
    long t = 1_000_000_000L;
    assertThat(KvmProbe.retryDue(t, t + KvmProbe.RETRY_AFTER.toNanos() - 1)).isFalse();
    assertThat(KvmProbe.retryDue(t, t + KvmProbe.RETRY_AFTER.toNanos())).isTrue();
    assertThat(KvmProbe.retryDue(Long.MAX_VALUE - 10, Long.MIN_VALUE + 10 + KvmProbe.RETRY_AFTER.toNanos())).isTrue();
  }

  @Test
  void onlyAVerdictIsCompletedAndOnlyKvmSeenWorkingUsesKvm() {
    assertThat(Arrays.stream(Outcome.values()).filter(Outcome::completed))
        .containsExactlyInAnyOrder(Outcome.KVM_RUNS, Outcome.KVM_FAILS, Outcome.KVM_HANGS);
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
  void theProbeGuestHasMemoryEnoughToDecompressItsKernelAndStopsOnReboot() {
    String xml = KvmProbe.xml(KvmProbe.OWNER_PREFIX + "1-x", "kvm", Path.of("/k"), Path.of("/l"));
    assertThat(xml).contains("<memory unit='MiB'>256</memory>").contains("<on_reboot>destroy</on_reboot>");
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
