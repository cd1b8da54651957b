package dev.pods.kvm;

import dev.pods.BootImage;
import dev.pods.ImageResolver;
import dev.pods.PodsException;
import dev.pods.ImagePolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The image catalogue of the local host ({@link dev.pods.PodRuntime#local()}): maps a unit's
 * {@link dev.pods.Unit#image() image} to what the hypervisor boots.
 *
 * <ul>
 *   <li>{@code tiny} (also {@code busybox}): the tiny guest of {@link GuestImages#tiny()}, a direct kernel boot of
 *       the Debian cloud kernel and a busybox initramfs, no disk; boots in seconds even without KVM;
 *   <li>{@code debian12} (also {@code debian}, {@code full}): the full guest of {@link GuestImages#full()}, Debian 12
 *       with systemd and cloud-init on a qcow2 disk (every instance gets its own overlay);
 *   <li>an absolute path of a disk image (qcow2 or raw with its own boot loader) under a folder the
 *       {@link ImagePolicy} allows: a disk boot of overlays on a copy of it in the base-image cache;
 *   <li>an {@code http(s)} URL of such a disk image under a prefix the policy allows: downloaded once into the
 *       base-image cache ({@link DiskImages#base}).
 * </ul>
 *
 * <p>The policy is the one of the {@link DiskImages} given to {@link #of}; by default
 * ({@link ImagePolicy#catalogueOnly()}) only catalogue names and {@code +/image/} references resolve.
 *
 * <p>Catalogue names may be written as template references, {@code +/image/debian12}; a {@code :tag} is accepted
 * and ignored for catalogue names (there is one version of each, the one built from the current Debian packages).
 * The guest images are built on first use and cached ({@link GuestImages}), which blocks the first resolving thread
 * for seconds (tiny) to a minute or two (full).
 *
 * <p>Thread-safe: {@link GuestImages} and {@link DiskImages} serialize their builds and downloads.
 *
 * @since 0.1
 */
public final class GuestCatalog implements ImageResolver {
  /** The catalogue names that resolve to the tiny guest. */
  public static final List<String> TINY = List.of("tiny", "busybox");

  /** The catalogue names that resolve to the full Debian 12 cloud-init guest. */
  public static final List<String> FULL = List.of("debian12", "debian", "full");


  /** Every catalogue name, tiny guest's first ({@link #TINY} then {@link #FULL}); for {@code ImagePolicy.Builder.catalogue}. */
  public static List<String> names() {
    return java.util.stream.Stream.concat(TINY.stream(), FULL.stream()).toList();
  }

  private final GuestImages images;
  private final DiskImages disks;

  private GuestCatalog(GuestImages images, DiskImages disks) {
    this.images = images;
    this.disks = disks;
  }

  /**
   * A catalogue building guests into {@code images} and caching downloaded disks in {@code disks}.
   */
  public static GuestCatalog of(GuestImages images, DiskImages disks) {
    return new GuestCatalog(Objects.requireNonNull(images, "images"), Objects.requireNonNull(disks, "disks"));
  }

  /** The catalogue name an image reference stands for: {@code +/image/debian12:1} is {@code debian12}. */
  static String catalogueName(String image) {
    return dev.pods.internal.Names.catalogueName(image);
  }


  /**
   * Resolves {@code image} under the policy of the catalogue's {@link DiskImages#policy() disk images}: a name the
   * policy refuses fails before anything is read; a path is checked again with its symbolic links resolved (under an
   * allowed folder, never inside the pods disk folder), then copied into the base cache, and a URL downloaded into
   * it ({@link DiskImages#base}: size bound, redirects and destinations checked, optional pin
   * {@code #sha256=<64 hex digits>} at the URL's end, backing chain inspected).
   *
   * @throws PodsException naming the image and the rule, when the policy refuses it; naming what is known when it
   *     is none of the above; or when the guest image cannot be built, copied or downloaded
   */
  @Override
  public BootImage resolve(String image) {
    Objects.requireNonNull(image, "image");
    ImagePolicy policy = disks.policy();
    Optional<String> refused = policy.refusal(image);
    if (refused.isPresent()) {
      throw new PodsException("image '" + image + "' is refused by the host's image policy: " + refused.get());
    }
    String lower = image.toLowerCase(Locale.ROOT);
    if (lower.startsWith("http://") || lower.startsWith("https://")) {
      return BootImage.disk(disks.base(ImageSource.parseUrl(image), p -> {}));
    }
    if (image.startsWith("/")) {
      return BootImage.disk(disks.base(ImageSource.file(allowedFile(image, policy)), p -> {}));
    }
    String name = catalogueName(image);
    if (TINY.contains(name)) {
      GuestImages.Tiny t = images.tiny();
      return BootImage.kernel(t.kernel(), t.initrd(), t.cmdline(""));
    }
    if (FULL.contains(name)) {
      GuestImages.Full f = images.full();
      return new BootImage(f.kernel(), f.initrd(), f.cmdline(), f.disk());
    }
    throw new PodsException("image '" + image + "' is not in the catalogue: known are " + TINY + " (tiny guest), "
        + FULL + " (Debian 12 with cloud-init), an absolute path of a disk image, or an http(s) URL of one");
  }

  /** The real path of an image file the policy allows: a regular file under an allowed folder, not in our disks. */
  private Path allowedFile(String image, ImagePolicy policy) {
    Path real;
    try {
      real = Path.of(image).toRealPath();
    } catch (IOException | RuntimeException e) {
      throw new PodsException("image " + image + ": no such disk image file");
    }
    if (!Files.isRegularFile(real)) {
      throw new PodsException("image " + image + ": not a regular file");
    }
    if (real.startsWith(realOrSelf(disks.root()))) {
      throw new PodsException("image '" + image + "' is refused by the host's image policy: it is inside the pods"
          + " disk folder " + disks.root() + " (rule: never the disks of instances or the image cache)");
    }
    for (Path folder : policy.folders()) {
      if (real.startsWith(realOrSelf(folder))) {
        return real;
      }
    }
    throw new PodsException("image '" + image + "' is refused by the host's image policy: it resolves to " + real
        + ", and disk image paths are allowed only under " + policy.folders() + " (rule: allowed host folders)");
  }

  private static Path realOrSelf(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p.toAbsolutePath().normalize();
    }
  }

  @Override
  public String toString() {
    return "GuestCatalog[" + images.dir() + "]";
  }
}
