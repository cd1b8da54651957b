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
}
