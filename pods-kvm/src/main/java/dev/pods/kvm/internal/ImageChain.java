package dev.pods.kvm.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads what {@code qemu-img info --output=json} (with or without {@code --backing-chain}) says about an image's
 * layers, and decides whether a chain may be a guest's base: every layer a qcow2 or raw file inside the image
 * cache, no {@code json:} or protocol file names ({@code nbd:}, {@code http:}, ...), no external data file. Pure
 * functions; thread-safe.
 */
public final class ImageChain {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> FORMATS = Set.of("qcow2", "raw");
  /** A QEMU protocol prefix, as in {@code nbd:host:port} or {@code json:{...}}: letters before a colon, no slash. */
  private static final Pattern PROTOCOL = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");

  private ImageChain() {}

  /**
   * One layer of an image as qemu-img reports it.
   *
   * @param filename the layer's file name
   * @param format its format ({@code qcow2}, {@code raw}, ...)
   * @param virtualSize the size the guest sees, in bytes
   * @param backing the backing file name as written in the header ({@code full-backing-filename} when given), or
   *     {@code null}
   * @param dataFile a qcow2 external data file, or {@code null}
   */
  public record Layer(String filename, String format, long virtualSize, @Nullable String backing,
      @Nullable String dataFile) {}

  /**
   * Parses qemu-img's JSON: one object (plain {@code info}) or an array of them ({@code --backing-chain}), top
   * layer first.
   *
   * @throws IllegalArgumentException when the text is not such JSON
   */
  public static List<Layer> parse(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("qemu-img info did not print JSON: " + e.getOriginalMessage(), e);
    }
    List<Layer> out = new ArrayList<>();
    if (root != null && root.isArray()) {
      root.forEach(n -> out.add(layer(n)));
    } else if (root != null && root.isObject()) {
      out.add(layer(root));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("qemu-img info printed no image");
    }
    return out;
  }

  private static Layer layer(JsonNode n) {
    if (!n.isObject() || !n.path("filename").isTextual() || !n.path("format").isTextual()
        || !n.path("virtual-size").canConvertToLong()) {
      throw new IllegalArgumentException("qemu-img info printed an image without filename, format or virtual-size");
    }
    String backing = text(n, "full-backing-filename");
    if (backing == null) {
      backing = text(n, "backing-filename");
    }
    String dataFile = text(n.path("format-specific").path("data"), "data-file");
    return new Layer(n.get("filename").asText(), n.get("format").asText(), n.get("virtual-size").asLong(), backing,
        dataFile);
  }

  private static @Nullable String text(JsonNode n, String field) {
    JsonNode v = n.path(field);
    return v.isTextual() ? v.asText() : null;
  }

  /**
   * Why a freshly copied or downloaded image may not enter the cache, or empty: a base image stands alone (no
   * backing file, no external data file) and is qcow2 or raw.
   */
  public static Optional<String> refusalAsNewBase(Layer top) {
    if (!FORMATS.contains(top.format())) {
      return Optional.of("its format is " + top.format() + ", and only qcow2 and raw images are allowed");
    }
    if (top.backing() != null) {
      return Optional.of("it names a backing file ('" + top.backing() + "'); a base image must stand alone");
    }
    if (top.dataFile() != null) {
      return Optional.of("it names an external data file ('" + top.dataFile() + "')");
    }
    return Optional.empty();
  }

  /**
   * Why a cached base image's chain may not back a guest's disk, or empty: every layer (and every backing file it
   * names) a plain file inside {@code cacheDir}, in qcow2 or raw format, without an external data file.
   *
   * @param chain the layers, top first, as {@link #parse} returns them for {@code --backing-chain}
   * @param cacheDir the image cache (absolute, normalized)
   */
  public static Optional<String> refusal(List<Layer> chain, Path cacheDir) {
    for (Layer l : chain) {
      Optional<String> file = fileRefusal(l.filename(), cacheDir, null);
      if (file.isPresent()) {
        return file;
      }
      if (!FORMATS.contains(l.format())) {
        return Optional.of("layer " + l.filename() + " is " + l.format() + ", and only qcow2 and raw are allowed");
      }
      if (l.dataFile() != null) {
        return Optional.of("layer " + l.filename() + " names an external data file ('" + l.dataFile() + "')");
      }
      if (l.backing() != null) {
        Optional<String> backing = fileRefusal(l.backing(), cacheDir, Path.of(l.filename()).getParent());
        if (backing.isPresent()) {
          return backing;
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<String> fileRefusal(String name, Path cacheDir, @Nullable Path relativeTo) {
    if (PROTOCOL.matcher(name).find()) {
      return Optional.of("'" + name + "' is a protocol or json: file name, not a file of the image cache");
    }
    Path p;
    try {
      p = Path.of(name);
    } catch (InvalidPathException e) {
      return Optional.of("'" + name + "' is not a file name");
    }
    if (!p.isAbsolute()) {
      if (relativeTo == null) {
        return Optional.of("'" + name + "' is not an absolute file name");
      }
      p = relativeTo.resolve(p);
    }
    p = p.normalize();
    if (!p.startsWith(cacheDir) || p.equals(cacheDir)) {
      return Optional.of("'" + name + "' is outside the image cache " + cacheDir);
    }
    return Optional.empty();
  }
}
