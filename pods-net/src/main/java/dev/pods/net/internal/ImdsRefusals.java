package dev.pods.net.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the readings of each instance's {@value Programs#IMDS_REFUSED_COUNTER} counter (connections to its metadata
 * service over {@link Programs#IMDS_MAX_CONNECTIONS}, reset by its nftables table) into at most one warning per
 * instance per reading: one when the count rose since the last reading, none while it stays, so a guest that keeps
 * trying is named once per period, with how many it lost. Not thread-safe: one watcher calls it.
 */
public final class ImdsRefusals {
  private static final Pattern PACKETS = Pattern.compile("packets (\\d+)");
  private final Map<String, Long> seen = new HashMap<>();

  /** The count in the output of {@code nft list counter ...}. */
  public static long parse(String nftOutput) {
    Matcher m = PACKETS.matcher(nftOutput);
    if (!m.find()) {
      throw new IllegalArgumentException("no packet count in: " + nftOutput.strip());
    }
    return Long.parseLong(m.group(1));
  }

  /**
   * Records a reading; a warning when the count rose since the last one (a first reading counts from 0, and so does
   * a lower one: the table was replaced).
   */
  public Optional<String> observe(String instanceId, long count) {
    Long before = seen.put(instanceId, count);
    long last = before == null || before > count ? 0 : before;
    if (count <= last) {
      return Optional.empty();
    }
    return Optional.of("instance " + instanceId + ": its guest tried to hold more than "
        + Programs.IMDS_MAX_CONNECTIONS + " connections to its metadata service; " + (count - last)
        + " more refused (" + count + " in all)");
  }

  /** Forgets instances that are gone. */
  public void retain(Set<String> instanceIds) {
    seen.keySet().retainAll(instanceIds);
  }
}
