package dev.pods.kvm;

import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Where a base image comes from: a local file, or an {@code http(s)://} URL downloaded once into the cache,
 * optionally checked against a SHA-256 digest. Immutable.
 *
 * @param path the local file, or {@code null} for a URL
 * @param url the URL, or {@code null} for a local file
 * @param sha256 the expected SHA-256 of the content (64 lower-case hex digits), or {@code null} for no check
 */
public record ImageSource(@Nullable Path path, @Nullable URI url, @Nullable String sha256) {
  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

  /** Validates: exactly one of path and URL; http(s) only; well-formed digest. */
  public ImageSource {
    if ((path == null) == (url == null)) {
      throw new IllegalArgumentException("exactly one of path and url must be given");
    }
    if (path != null && !path.isAbsolute()) {
      throw new IllegalArgumentException("image path must be absolute: " + path);
    }
    if (url != null) {
      String scheme = String.valueOf(url.getScheme()).toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException("only http and https image URLs are supported: " + url);
      }
    }
    if (sha256 != null) {
      sha256 = sha256.toLowerCase(Locale.ROOT);
      if (!HEX64.matcher(sha256).matches()) {
        throw new IllegalArgumentException("sha256 must be 64 hex digits: " + sha256);
      }
    }
  }

  /** A local image file (qcow2 or raw). */
  public static ImageSource file(Path path) {
    return new ImageSource(Objects.requireNonNull(path, "path"), null, null);
  }

  /** An image downloaded from {@code url}, without a digest check. */
  public static ImageSource url(URI url) {
    return new ImageSource(null, Objects.requireNonNull(url, "url"), null);
  }

  /** An image downloaded from {@code url} whose content must have the given SHA-256. */
  public static ImageSource url(URI url, String sha256) {
    return new ImageSource(null, Objects.requireNonNull(url, "url"), Objects.requireNonNull(sha256, "sha256"));
  }

  /**
   * An image URL as a template writes it: {@code http(s)://...}, optionally pinned with a fragment
   * {@code #sha256=<64 hex digits>} (the fragment is never sent).
   *
   * @throws IllegalArgumentException when the URL or the pin is malformed
   */
  public static ImageSource parseUrl(String text) {
    Objects.requireNonNull(text, "text");
    URI u;
    try {
      u = new URI(text);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException("not a URL: " + e.getReason(), e);
    }
    String fragment = u.getRawFragment();
    if (fragment == null) {
      return url(u);
    }
    if (!fragment.startsWith("sha256=")) {
      throw new IllegalArgumentException("the only fragment of an image URL is #sha256=<64 hex digits>");
    }
    return url(URI.create(text.substring(0, text.indexOf('#'))), fragment.substring("sha256=".length()));
  }

  @Override
  public String toString() {
    return path != null ? path.toString() : String.valueOf(url);
  }
}
