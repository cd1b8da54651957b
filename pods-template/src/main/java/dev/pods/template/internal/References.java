package dev.pods.template.internal;

import dev.pods.spec.Reference;

/**
 * {@link Reference#parse(String)} without its regular expression on the common path: the text is split by hand
 * and the parts handed to {@link Reference}'s constructor, which checks each of them. Whenever the split or the
 * constructor has any doubt, the model's own parser decides, so the result and every error message are exactly
 * the model's.
 */
public final class References {
  private References() {}

  /**
   * Parses {@code +/kind/name[:tag][/selector]}.
   *
   * @throws IllegalArgumentException exactly as {@link Reference#parse(String)}
   */
  public static Reference parse(String text) {
    int len = text.length();
    if (len > 2 && text.charAt(0) == '+' && text.charAt(1) == '/') {
      int k = 2;
      while (k < len && text.charAt(k) >= 'a' && text.charAt(k) <= 'z') {
        k++;
      }
      if (k > 2 && k < len && text.charAt(k) == '/') {
        int i = k + 1;
        while (i < len && text.charAt(i) != ':' && text.charAt(i) != '/') {
          i++;
        }
        String name = text.substring(k + 1, i);
        String tag = null;
        String selector = null;
        boolean plain = true;
        if (i < len && text.charAt(i) == ':') {
          int t = i + 1;
          i = t;
          while (i < len && text.charAt(i) != '/' && text.charAt(i) != ':') {
            i++;
          }
          plain = i == len || text.charAt(i) == '/';
          tag = text.substring(t, i);
        }
        if (plain && i < len) {
          selector = text.substring(i + 1);
          plain = selector.indexOf('/') < 0 && selector.indexOf(':') < 0;
        }
        if (plain) {
          try {
            return new Reference(text.substring(2, k), name, tag, selector);
          } catch (IllegalArgumentException e) {
            // the model's parser gives the message
          }
        }
      }
    }
    return Reference.parse(text);
  }
}
