package dev.pods.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * Resource usage of one running domain at one moment, for health and scaling decisions. Counters are
 * cumulative since the domain started; compare two samples to get rates. A value the backend cannot report is
 * {@code -1}.
 *
 * @param domain the domain name
 * @param at when the sample was taken
 * @param vcpus number of virtual CPUs
 * @param cpuTimeNanos CPU time used by the domain
 * @param memoryKib memory currently assigned to the guest, in KiB
 * @param maxMemoryKib maximum memory of the guest, in KiB
 * @param diskReadBytes bytes read from all disks
 * @param diskWriteBytes bytes written to all disks
 * @param netRxBytes bytes received by all NICs
 * @param netTxBytes bytes sent by all NICs
 */
public record HypervisorStats(
    String domain,
    Instant at,
    int vcpus,
    long cpuTimeNanos,
    long memoryKib,
    long maxMemoryKib,
    long diskReadBytes,
    long diskWriteBytes,
    long netRxBytes,
    long netTxBytes) {
  /** Validates: no nulls. */
  public HypervisorStats {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(at, "at");
  }
}
