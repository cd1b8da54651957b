package dev.pods.cli;

import dev.pods.ImagePolicy;
import dev.pods.kvm.GuestCatalog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The image policy options of {@code pods validate} and {@code pods up}, a picocli mixin:
 * {@code --allow-image-folder DIR}, {@code --allow-image-url PREFIX} (both repeatable),
 * {@code --allow-private-image-hosts} and {@code --max-image-size BYTES}. Without any, the policy is
 * {@link ImagePolicy#catalogueOnly()}. By default a template may name catalogue images (tiny, debian12) and
 * {@code +/image/NAME} references only, and only names this host's catalogue has ({@code GuestCatalog.names()}). One object per parse; not thread-safe.
 */
final class ImageOptions {
  @Option(names = "--allow-image-folder", paramLabel = "DIR",
      description = "allow disk image paths under DIR (absolute; repeatable)")
  List<String> folders = new ArrayList<>();

  @Option(names = "--allow-image-url", paramLabel = "PREFIX",
      description = "allow image URLs under PREFIX, http(s)://HOST[:PORT]/PATH/ (repeatable)")
  List<String> urls = new ArrayList<>();

  @Option(names = "--allow-private-image-hosts",
      description = "allow downloads from loopback, link-local and private addresses")
  boolean privateHosts;

  @Option(names = "--max-image-size", paramLabel = "BYTES",
      description = "the largest image copied or downloaded (default 64 GiB)")
  @Nullable String maxBytes;

  /**
   * The policy these options give.
   *
   * @throws Up.UsageException naming {@code command} and the option, when a value is malformed
   */
  ImagePolicy policy(String command) throws Up.UsageException {
    ImagePolicy.Builder b = ImagePolicy.builder();
    String option = "";
    try {
      option = "--allow-image-folder";
      for (String f : folders) {
        b.allowFolder(Path.of(f));
      }
      option = "--allow-image-url";
      for (String u : urls) {
        b.allowUrlPrefix(u);
      }
      option = "--max-image-size";
      if (maxBytes != null) {
        b.maxImageBytes(Long.parseLong(maxBytes));
      }
    } catch (IllegalArgumentException e) {
      throw new Up.UsageException(command + ": " + option + ": " + e.getMessage());
    }
    b.allowPrivateDestinations(privateHosts);
    b.catalogue(GuestCatalog.names()); // an unknown name is an error at the template's image line
    return b.build();
  }
}
