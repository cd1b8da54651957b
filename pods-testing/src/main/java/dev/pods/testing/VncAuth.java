package dev.pods.testing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * VNC authentication's response to a challenge (RFB 3.8, section 7.2.2): the 16-byte challenge encrypted with DES
 * (ECB) under the password's first 8 bytes, zero-padded, each byte's bits reversed. The JDK does the DES.
 */
final class VncAuth {
  private VncAuth() {}

  static byte[] response(byte[] challenge, String password) {
    byte[] key = new byte[8];
    byte[] pw = password.getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i < Math.min(8, pw.length); i++) {
      key[i] = (byte) (Integer.reverse(pw[i] & 0xff) >>> 24);
    }
    try {
      Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
      des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
      return des.doFinal(challenge);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("DES is not available in this JDK", e);
    }
  }
}
