package dev.pods.kvm;

import dev.pods.BootImage;
import dev.pods.ImageResolver;
import dev.pods.PodsException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The image catalogue of the local host ({@link dev.pods.PodRuntime#local()}): maps a unit's
 * {@link dev.pods.Unit#image() image} to what the hypervisor boots.
 *
 * <ul>
 *   <li>{@code tiny} (also {@code busybox}): the tiny guest of {@link GuestImages#tiny()}, a direct kernel boot of
 *       the Debian cloud kernel and a busybox initramfs, no disk; boots in seconds even without KVM;
 *   <li>{@code debian12} (also {@code debian}, {@code full}): the full guest of {@link GuestImages#full()}, Debian 12
 *       with systemd and cloud-init on a qcow2 disk (every instance gets its own overlay);
 *   <li>an absolute path of a disk image (qcow2 or raw with its own boot loader): a disk boot of overlays on a copy of
 *       it in the base-image cache;
 *   <li>an {@code http(s)} URL of such a disk image: downloaded once into the base-image cache
 *       ({@link DiskImages#base}).
 * </ul>
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

  private static final String REF = "+/image/";

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
    String n = image.strip();
    if (n.startsWith(REF)) {
      n = n.substring(REF.length());
      int slash = n.indexOf('/');
      if (slash >= 0) {
        n = n.substring(0, slash);
      }
      int colon = n.indexOf(':');
      if (colon >= 0) {
        n = n.substring(0, colon);
      }
    }
    return n.toLowerCase(Locale.ROOT);
  }

  /**
   * Resolves {@code image}.
   *
   * @throws PodsException naming the image and what is known when it is none of the above, or when the guest image
   *     cannot be built or downloaded
   */
  @Override
  public BootImage resolve(String image) {
    Objects.requireNonNull(image, "image");
    if (image.startsWith("http://") || image.startsWith("https://")) {
      return BootImage.disk(disks.base(ImageSource.url(URI.create(image)), p -> {}));
    }
    if (image.startsWith("/")) {
      Path p = Path.of(image);
      if (!Files.isRegularFile(p)) {
        throw new PodsException("image " + image + ": no such disk image file");
      }
      return BootImage.disk(p);
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

  @Override
  public String toString() {
    return "GuestCatalog[" + images.dir() + "]";
  }
}
