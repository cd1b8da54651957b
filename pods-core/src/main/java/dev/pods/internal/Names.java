package dev.pods.internal;

import java.util.regex.Pattern;

/** Name rules shared by the model. Not API: may change without notice. */
public final class Names {
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private Names() {}

  /**
   * Whether a pod, unit or resource name is valid: a DNS label of lower-case letters, digits and inner
   * hyphens, 1 to 63 characters. Names end up in host names, domain names and namespace names.
   */
  public static boolean isValid(String name) {
    return NAME.matcher(name).matches();
  }

  /** The reason a name is invalid, for error messages. */
  public static String rule() {
    return "a name is 1-63 lower-case letters, digits or inner '-' (a DNS label)";
  }

  /** Checks a name, naming the field in the exception. */
  public static String require(String field, String name) {
    if (!isValid(name)) {
      throw new IllegalArgumentException("invalid " + field + " '" + name + "': " + rule());
    }
    return name;
  }

  /**
   * The catalogue name an image stands for, as the guest catalogue resolves it: {@code +/image/Debian12:1} (and
   * {@code +/image/debian12/...}) is {@code debian12}; a bare name is itself, stripped and in lower case (a
   * {@code :tag} is part of a bare name, so {@code tiny:1} is no catalogue name).
   */
  public static String catalogueName(String image) {
    String n = image.strip();
    if (n.startsWith(IMAGE_REF)) {
      n = n.substring(IMAGE_REF.length());
      int slash = n.indexOf('/');
      if (slash >= 0) {
        n = n.substring(0, slash);
      }
      int colon = n.indexOf(':');
      if (colon >= 0) {
        n = n.substring(0, colon);
      }
    }
    return n.toLowerCase(java.util.Locale.ROOT);
  }

  private static final String IMAGE_REF = "+/image/";
}
