package dev.pods.runtime;

import java.security.SecureRandom;

/**
 * New VNC passwords: 8 characters (the most VNC authentication uses) of letters and digits, from a
 * {@link SecureRandom}. Thread-safe.
 */
final class VncPasswords {
  private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  private VncPasswords() {}

  static String next() {
    StringBuilder b = new StringBuilder(8);
    for (int i = 0; i < 8; i++) {
      b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return b.toString();
  }
}
