package dev.pods;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Which images a unit may name, decided by the host application, not by the template's author. By default
 * ({@link #catalogueOnly()}) only catalogue names ({@code tiny}, {@code debian12}, ...) and {@code +/image/NAME[:tag]}
 * references are allowed; disk image paths are allowed only under host folders the host lists
 * ({@link Builder#allowFolder}), and URLs only under prefixes it lists ({@link Builder#allowUrlPrefix}). A policy
 * that knows the host's catalogue ({@link Builder#catalogue}) also refuses a name the catalogue does not have, so
 * {@code pods validate} reports it at the template's {@code image} line instead of the deploy failing later.
 *
 * <p>The policy is consulted by {@code pods validate} and {@code pods up} (a refused image is a template error at the
 * {@code image} line), by {@link PodRuntime#deploy} and {@link Deployment#plan} (a {@link PodSpecException} naming
 * the unit), and by the image resolver of {@link PodRuntime#local()}, which applies the rest when it fetches: a path
 * is checked again once its symbolic links are resolved, a download is bounded by {@link #maxImageBytes()}, every
 * redirect is checked like the first URL, and a host name is resolved once, every address it resolves to must pass
 * {@link #refusal(InetAddress)}, and the download connects to those checked addresses only.
 *
 * <p>Immutable and thread-safe; every method is pure and does not block.
 *
 * @since 0.1
 */
public final class ImagePolicy {
  /** The default bound of a path or downloaded image: 64 GiB. */
  public static final long DEFAULT_MAX_IMAGE_BYTES = 64L << 30;

  private static final ImagePolicy CATALOGUE_ONLY = builder().build();

  private final List<Path> folders;
  private final List<URI> urlPrefixes;
  private final boolean privateDestinations;
  private final long maxImageBytes;
  private final @Nullable List<String> catalogue;

  private ImagePolicy(Builder b) {
    this.catalogue = b.catalogue == null ? null : List.copyOf(b.catalogue);
    this.folders = List.copyOf(b.folders);
    this.urlPrefixes = List.copyOf(b.urlPrefixes);
    this.privateDestinations = b.privateDestinations;
    this.maxImageBytes = b.maxImageBytes;
  }

  /** The default: catalogue names and {@code +/image/} references only. */
  public static ImagePolicy catalogueOnly() {
    return CATALOGUE_ONLY;
  }

  /** A builder starting from {@link #catalogueOnly()}. Not thread-safe. */
  public static Builder builder() {
    return new Builder();
  }

  /** The host folders under which disk image paths are allowed (absolute, normalized). */
  public List<Path> folders() {
    return folders;
  }

  /** The URL prefixes under which image URLs are allowed. */
  public List<URI> urlPrefixes() {
    return urlPrefixes;
  }

  /** Whether downloads may go to loopback, link-local, private and other non-public addresses. */
  public boolean allowsPrivateDestinations() {
    return privateDestinations;
  }

  /** The largest image, in bytes, copied from a path or downloaded. */
  public long maxImageBytes() {
    return maxImageBytes;
  }

  /**
   * The catalogue names a unit may name (lower case), when the policy knows the host's catalogue; empty when any
   * name passes (the image resolver then says at deploy whether it has it).
   */
  public Optional<List<String>> catalogue() {
    return Optional.ofNullable(catalogue);
  }

  /**
   * Why {@code image} (a unit's {@link Unit#image()}) is refused, naming the rule, or empty when it is allowed.
   * A lexical check: a path's symbolic links are resolved only when it is fetched ({@link #refusal(Path)}).
   */
  public Optional<String> refusal(String image) {
    Objects.requireNonNull(image, "image");
    String bad = controlCharacter(image);
    if (bad != null) {
      return Optional.of("the image contains " + bad + ", which no image name, path or URL may");
    }
    if (image.startsWith("+/")) {
      return image.startsWith("+/image/") ? catalogueRefusal(image)
          : Optional.of("only +/image/NAME[:tag] references are allowed (rule: catalogue images only)");
    }
    String lower = image.toLowerCase(Locale.ROOT);
    if (image.startsWith("/")) {
      return pathRefusal(image);
    }
    if (lower.startsWith("http://") || lower.startsWith("https://")) {
      return urlRefusal(image);
    }
    if (image.contains("://") || image.contains("/") || image.contains("\\") || image.contains("..")) {
      return Optional.of("an image is a catalogue name, +/image/NAME[:tag], an absolute path or an http(s) URL"
          + " (rule: catalogue images only)");
    }
    return catalogueRefusal(image);
  }

  /** Why {@code image} (a bare name or {@code +/image/NAME[:tag]}) is refused: not in a known catalogue. */
  private Optional<String> catalogueRefusal(String image) {
    if (catalogue == null) {
      return Optional.empty();
    }
    String name = dev.pods.internal.Names.catalogueName(image);
    return catalogue.contains(name) ? Optional.empty()
        : Optional.of("'" + name + "' is not in this host's catalogue, which has " + String.join(", ", catalogue)
            + " (rule: catalogue names)");
  }


  /**
   * Why the disk image file {@code realPath} (absolute, symbolic links already resolved) is refused, or empty when
   * it lies under an allowed folder.
   */
  public Optional<String> refusal(Path realPath) {
    Objects.requireNonNull(realPath, "realPath");
    return pathRefusal(realPath.toString());
  }

  private Optional<String> pathRefusal(String image) {
    Path p = Path.of(image);
    if (!p.normalize().equals(p) || image.contains("/./") || image.contains("//") || image.endsWith("/.")) {
      return Optional.of("an image path must be absolute and normalized (no '.', '..' or '//')");
    }
    for (Path f : folders) {
      if (p.startsWith(f) && !p.equals(f)) {
        return Optional.empty();
      }
    }
    return Optional.of(folders.isEmpty()
        ? "disk image paths are not allowed (rule: no host folder is allowed for images)"
        : "disk image paths are allowed only under " + folders + " (rule: allowed host folders)");
  }

  private Optional<String> urlRefusal(String image) {
    URI u;
    try {
      u = new URI(image);
    } catch (URISyntaxException e) {
      return Optional.of("not a valid URL: " + e.getReason());
    }
    return refusal(u);
  }

  /**
   * Why the image URL {@code url} (the first, or one a download was redirected to) is refused, or empty when it is
   * an http(s) URL under an allowed prefix.
   */
  public Optional<String> refusal(URI url) {
    Objects.requireNonNull(url, "url");
    String scheme = String.valueOf(url.getScheme()).toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return Optional.of("only http and https image URLs are allowed (rule: URL schemes)");
    }
    if (url.getHost() == null || url.getRawUserInfo() != null || url.isOpaque()) {
      return Optional.of("an image URL needs a host and no user name or password (rule: URL form)");
    }
    String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
    if (!URI.create("/x" + path).normalize().getRawPath().equals("/x" + path)) {
      return Optional.of("an image URL's path must be normalized (no '.' or '..' segments) (rule: URL form)");
    }
    for (URI p : urlPrefixes) {
      if (p.getScheme().equals(scheme) && p.getHost().equalsIgnoreCase(url.getHost())
          && port(p) == port(url) && path.startsWith(p.getRawPath())) {
        return Optional.empty();
      }
    }
    return Optional.of(urlPrefixes.isEmpty()
        ? "image URLs are not allowed (rule: no URL prefix is allowed for images)"
        : "image URLs are allowed only under " + urlPrefixes + " (rule: allowed URL prefixes)");
  }

  private static int port(URI u) {
    return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
  }

  /**
   * Why a download may not connect to {@code address}, or empty when it may: loopback, link-local, private,
   * shared (100.64.0.0/10), unspecified, multicast, documentation, benchmarking and reserved addresses, unique-local
   * IPv6, and IPv6 forms embedding such an IPv4 address (NAT64, 6to4), are refused unless
   * {@link Builder#allowPrivateDestinations} is set.
   */
  public Optional<String> refusal(InetAddress address) {
    Objects.requireNonNull(address, "address");
    if (privateDestinations || isPublic(address)) {
      return Optional.empty();
    }
    return Optional.of("address " + address.getHostAddress() + " is not a public address (rule: no loopback,"
        + " link-local or private download destinations)");
  }

  /** Whether {@code a} is a globally routable unicast address. Pure. */
  static boolean isPublic(InetAddress a) {
    if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      return false;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      int x = b[0] & 0xff;
      int y = b[1] & 0xff;
      int z = b[2] & 0xff;
      return !(x == 0 || x >= 224 // this network; multicast, reserved and broadcast
          || (x == 100 && y >= 64 && y < 128) // shared address space
          || (x == 192 && y == 0 && (z == 0 || z == 2)) // IETF protocol assignments, TEST-NET-1
          || (x == 198 && (y == 18 || y == 19)) // benchmarking
          || (x == 198 && y == 51 && z == 100) // TEST-NET-2
          || (x == 203 && y == 0 && z == 113)); // TEST-NET-3
    }
    if (a instanceof Inet6Address) {
      int first = b[0] & 0xff;
      if ((first & 0xfe) == 0xfc) { // unique local
        return false;
      }
      if (first == 0x20 && (b[1] & 0xff) == 0x02) { // 6to4: the IPv4 address in bytes 2..5
        return isPublic(v4(b, 2));
      }
      if (first == 0 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) { // NAT64 64:ff9b::/96
        return isPublic(v4(b, 12));
      }
      if (first == 0x20 && b[1] == 0x01 && b[2] == 0x0d && (b[3] & 0xff) == 0xb8) { // documentation
        return false;
      }
      boolean compat = true; // ::a.b.c.d (IPv4-compatible, deprecated)
      for (int i = 0; i < 12; i++) {
        compat &= b[i] == 0;
      }
      return !compat && first != 0;
    }
    return false;
  }

  private static InetAddress v4(byte[] b, int at) {
    try {
      return InetAddress.getByAddress(new byte[] {b[at], b[at + 1], b[at + 2], b[at + 3]});
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The problems of {@code pod}'s units under this policy: one error per unit whose image is refused, field
   * {@code units[NAME].image}, the message naming the image and the rule.
   */
  public List<Problem> problems(Pod pod) {
    Objects.requireNonNull(pod, "pod");
    List<Problem> out = new ArrayList<>();
    for (Unit u : pod.units()) {
      refusal(u.image()).ifPresent(r -> out.add(Problem.error("units[" + u.name() + "].image",
          "image '" + u.image() + "' is refused by the host's image policy: " + r)));
    }
    return out;
  }

  private static @Nullable String controlCharacter(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
        return String.format("a control character (U+%04X)", (int) c);
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return "ImagePolicy[folders=" + folders + ", urlPrefixes=" + urlPrefixes + ", privateDestinations="
        + privateDestinations + ", maxImageBytes=" + maxImageBytes
        + (catalogue == null ? "" : ", catalogue=" + catalogue) + "]";
  }

  /** Builds an {@link ImagePolicy}; starts from {@link #catalogueOnly()}. Not thread-safe. */
  public static final class Builder {
    private final List<Path> folders = new ArrayList<>();
    private final List<URI> urlPrefixes = new ArrayList<>();
    private boolean privateDestinations;
    private long maxImageBytes = DEFAULT_MAX_IMAGE_BYTES;
    private @Nullable List<String> catalogue;

    private Builder() {}

    /**
     * The names the host's catalogue resolves (for the local runtime, {@code dev.pods.kvm.GuestCatalog.names()}):
     * a bare name or {@code +/image/NAME[:tag]} outside them is refused. Without it any name passes the policy.
     *
     * @throws IllegalArgumentException when a name is blank, has upper-case letters, or contains {@code /} or
     *     {@code :}
     */
    public Builder catalogue(java.util.Collection<String> names) {
      List<String> list = new ArrayList<>();
      for (String n : Objects.requireNonNull(names, "names")) {
        if (n.isBlank() || !n.equals(n.toLowerCase(Locale.ROOT)) || n.contains("/") || n.contains(":")
            || controlCharacter(n) != null) {
          throw new IllegalArgumentException("a catalogue name is a lower-case word without '/' or ':': '" + n + "'");
        }
        list.add(n);
      }
      this.catalogue = list;
      return this;
    }

    /**
     * Allows disk image paths under {@code folder} (absolute; no {@code .} or {@code ..}). The folder should hold
     * images only: anything in it, at any depth, may become a guest's disk.
     *
     * @throws IllegalArgumentException when {@code folder} is relative, not normalized or the root folder
     */
    public Builder allowFolder(Path folder) {
      Objects.requireNonNull(folder, "folder");
      if (!folder.isAbsolute() || !folder.normalize().equals(folder) || folder.getNameCount() == 0
          || folder.toString().contains("//")) {
        throw new IllegalArgumentException("an image folder must be absolute, normalized and not '/': " + folder);
      }
      folders.add(folder);
      return this;
    }

    /**
     * Allows image URLs under {@code prefix}: same scheme (http or https), host and port, and a path that starts
     * with the prefix's path, which must end with {@code /} (so {@code https://images.example/} allows
     * {@code https://images.example/debian.qcow2}, and never {@code https://images.example.evil/}).
     *
     * @throws IllegalArgumentException when {@code prefix} is not such a URL
     */
    public Builder allowUrlPrefix(String prefix) {
      Objects.requireNonNull(prefix, "prefix");
      URI u;
      try {
        u = new URI(prefix);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("not a URL prefix: " + prefix, e);
      }
      String scheme = String.valueOf(u.getScheme()).toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || u.getRawUserInfo() != null
          || u.getRawPath() == null || !u.getRawPath().endsWith("/") || u.getRawQuery() != null
          || u.getRawFragment() != null || !u.normalize().equals(u)) {
        throw new IllegalArgumentException("an image URL prefix is http(s)://HOST[:PORT]/PATH/ (ending with '/',"
            + " normalized, no user, query or fragment): " + prefix);
      }
      urlPrefixes.add(URI.create(scheme + "://" + u.getRawAuthority() + u.getRawPath()));
      return this;
    }

    /**
     * Allows downloads from loopback, link-local and private addresses (for a mirror on the host's own network, or
     * tests); off by default, since a template could otherwise read the host's or its network's internal services.
     */
    public Builder allowPrivateDestinations(boolean allow) {
      this.privateDestinations = allow;
      return this;
    }

    /**
     * The largest image copied from a path or downloaded (default {@link #DEFAULT_MAX_IMAGE_BYTES}).
     *
     * @throws IllegalArgumentException when not positive
     */
    public Builder maxImageBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxImageBytes must be > 0: " + bytes);
      }
      this.maxImageBytes = bytes;
      return this;
    }

    /** The policy. */
    public ImagePolicy build() {
      return new ImagePolicy(this);
    }
  }
}
