package dev.pods.spec;

import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A reference {@code +/kind/name[:tag][/selector]}, the one grammar templates use to point at other things:
 * {@code +/unit/db/private_ips} in a firewall source or a {@code pods get} call, {@code +/image/debian12:2026},
 * {@code +/secret/db-creds/data.password}, {@code +/instance/self/id}.
 *
 * <p>Immutable. {@link #toString()} gives the text back, and {@code parse(r.toString()).equals(r)}.
 *
 * @param kind what is referred to (one of {@link #KINDS})
 * @param name its name ({@code self} for the calling instance)
 * @param tag an optional version tag after {@code :}
 * @param selector an optional selector after the name, e.g. {@code private_ips}
 */
public record Reference(String kind, String name, @Nullable String tag, @Nullable String selector) {

  /** The kinds a reference may name. */
  public static final Set<String> KINDS =
      Set.of(
          "unit", "instance", "pod", "image", "build", "zone", "node", "shape", "vpc", "subnet", "plan", "disk",
          "secret", "certificate", "domain");

  private static final String PART = "[A-Za-z0-9][A-Za-z0-9._-]*";
  private static final Pattern PART_RE = Pattern.compile(PART);
  private static final Pattern SYNTAX =
      Pattern.compile("\\+/([a-z]+)/(" + PART + ")(?::(" + PART + "))?(?:/(" + PART + "))?");

  /** Validates the parts. */
  public Reference {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
    if (!KINDS.contains(kind)) {
      throw new IllegalArgumentException(
          "unknown reference kind '" + kind + "': expected one of " + String.join(", ", new java.util.TreeSet<>(KINDS)));
    }
    requirePart("name", name);
    if (tag != null) {
      requirePart("tag", tag);
    }
    if (selector != null) {
      requirePart("selector", selector);
    }
  }

  private static void requirePart(String what, String value) {
    if (!PART_RE.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "invalid reference " + what + " '" + value + "': letters, digits, '.', '_' and '-' only");
    }
  }

  /** A reference to a unit with no selector: {@code +/unit/NAME}. */
  public static Reference unit(String name) {
    return new Reference("unit", name, null, null);
  }

  /** A reference of a kind and a name: {@code +/KIND/NAME}. */
  public static Reference of(String kind, String name) {
    return new Reference(kind, name, null, null);
  }

  /** Whether a text looks like a reference (starts with {@code +/}). */
  public static boolean isReference(String text) {
    return text.startsWith("+/");
  }

  /**
   * Parses {@code +/kind/name[:tag][/selector]}.
   *
   * @throws IllegalArgumentException saying what is wrong with the text
   */
  public static Reference parse(String text) {
    Objects.requireNonNull(text, "text");
    Matcher m = SYNTAX.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "malformed reference '" + text + "': expected +/kind/name[:tag][/selector]");
    }
    return new Reference(m.group(1), m.group(2), m.group(3), m.group(4));
  }

  /** This reference with another selector. */
  public Reference withSelector(@Nullable String newSelector) {
    return new Reference(kind, name, tag, newSelector);
  }

  /** The text form, {@code +/kind/name[:tag][/selector]}. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("+/").append(kind).append('/').append(name);
    if (tag != null) {
      b.append(':').append(tag);
    }
    if (selector != null) {
      b.append('/').append(selector);
    }
    return b.toString();
  }
}
