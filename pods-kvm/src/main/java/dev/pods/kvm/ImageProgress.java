package dev.pods.kvm;

import java.util.Objects;

/**
 * Progress of fetching a base image into the cache. Immutable.
 *
 * @param source the image source, as text
 * @param bytes bytes fetched so far
 * @param totalBytes the total size, or {@code -1} when the server did not say
 * @param done whether this is the last event of the fetch (the image is in the cache)
 */
public record ImageProgress(String source, long bytes, long totalBytes, boolean done) {
  /** Validates: no nulls. */
  public ImageProgress {
    Objects.requireNonNull(source, "source");
  }
}
