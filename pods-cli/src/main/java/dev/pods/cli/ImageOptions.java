package dev.pods.cli;

import dev.pods.ImagePolicy;
import java.nio.file.Path;
import java.util.List;

/**
 * The image policy options of {@code pods validate} and {@code pods up}: {@code --allow-image-folder DIR},
 * {@code --allow-image-url PREFIX} (both repeatable), {@code --allow-private-image-hosts} and
 * {@code --max-image-size BYTES}. Without any, the policy is {@link ImagePolicy#catalogueOnly()}. Stateless.
 */
final class ImageOptions {
  static final String USAGE = String.join("\n",
      "images (validate, up): by default a template may name catalogue images (tiny, debian12) and",
      "       +/image/NAME references only; the host allows more:",
      "        [--allow-image-folder DIR]   disk image paths under DIR (absolute; repeatable)",
      "        [--allow-image-url PREFIX]   image URLs under PREFIX, http(s)://HOST[:PORT]/PATH/ (repeatable)",
      "        [--allow-private-image-hosts]  downloads from loopback, link-local and private addresses",
      "        [--max-image-size BYTES]     the largest image copied or downloaded (default 64 GiB)");

  private ImageOptions() {}

  /**
   * Removes the image options from {@code args} (the other arguments stay in order) and returns their policy.
   *
   * @throws Up.UsageException naming the option, when a value is missing or malformed
   */
  static ImagePolicy take(String command, List<String> args) throws Up.UsageException {
    ImagePolicy.Builder b = ImagePolicy.builder();
    for (int i = 0; i < args.size(); ) {
      String a = args.get(i);
      switch (a) {
        case "--allow-image-folder", "--allow-image-url", "--max-image-size" -> {
          if (i + 1 >= args.size()) {
            throw new Up.UsageException(command + ": " + a + " needs a value");
          }
          String v = args.get(i + 1);
          try {
            switch (a) {
              case "--allow-image-folder" -> b.allowFolder(Path.of(v));
              case "--allow-image-url" -> b.allowUrlPrefix(v);
              default -> b.maxImageBytes(Long.parseLong(v));
            }
          } catch (IllegalArgumentException e) {
            throw new Up.UsageException(command + ": " + a + ": " + e.getMessage());
          }
          args.remove(i);
          args.remove(i);
        }
        case "--allow-private-image-hosts" -> {
          b.allowPrivateDestinations(true);
          args.remove(i);
        }
        default -> i++;
      }
    }
    return b.build();
  }
}
