package dev.pods.imds;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns offset-addressed chunks of one output stream into lines: ignores bytes already received, keeps a partial
 * last line until its newline, and cuts lines longer than {@link #MAX_LINE} bytes. Not thread-safe: the server
 * guards each instance with its own lock.
 */
final class OutputAssembler {
  static final int MAX_LINE = 64 * 1024;

  private long received;
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

  /** Accepts the bytes of the stream from {@code offset} on and returns the lines they complete. */
  List<String> accept(long offset, byte[] chunk) {
    List<String> lines = new ArrayList<>();
    int skip = 0;
    if (offset < received) {
      long already = received - offset;
      if (already >= chunk.length) {
        return lines;
      }
      skip = (int) already;
    }
    received = Math.max(received, offset) + (chunk.length - skip);
    for (int i = skip; i < chunk.length; i++) {
      byte b = chunk[i];
      if (b == '\n') {
        lines.add(decode(partial.toByteArray()));
        partial.reset();
      } else {
        partial.write(b);
        if (partial.size() >= MAX_LINE) {
          lines.add(decode(partial.toByteArray()));
          partial.reset();
        }
      }
    }
    return lines;
  }

  /** The partial last line, if any (at the block's end). */
  List<String> flush() {
    if (partial.size() == 0) {
      return List.of();
    }
    String s = decode(partial.toByteArray());
    partial.reset();
    return List.of(s);
  }

  private static String decode(byte[] b) {
    int n = b.length;
    if (n > 0 && b[n - 1] == '\r') {
      n--;
    }
    CharsetDecoder d =
        StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    try {
      return d.decode(ByteBuffer.wrap(b, 0, n)).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalStateException("a replacing decoder threw", e);
    }
  }
}
