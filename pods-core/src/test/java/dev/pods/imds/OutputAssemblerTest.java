package dev.pods.imds;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class OutputAssemblerTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void keepsPartialLinesAndIgnoresWhatItHasAlready() {
    OutputAssembler a = new OutputAssembler();
    assertThat(a.accept(0, b("one\ntw"))).containsExactly("one");
    assertThat(a.accept(0, b("one\ntw"))).isEmpty();
    assertThat(a.accept(5, b("wo\r\nthree"))).containsExactly("two");
    assertThat(a.flush()).containsExactly("three");
    assertThat(a.flush()).isEmpty();
  }

  @Test
  void cutsOverlongLinesAndReplacesInvalidUtf8() {
    OutputAssembler a = new OutputAssembler();
    byte[] big = new byte[OutputAssembler.MAX_LINE + 10];
    java.util.Arrays.fill(big, (byte) 'x');
    assertThat(a.accept(0, big)).hasSize(1).allMatch(l -> l.length() == OutputAssembler.MAX_LINE);
    assertThat(a.accept(big.length, new byte[] {(byte) 0xff, 'a', '\n'}).get(0)).isEqualTo("xxxxxxxxxx\uFFFDa");
  }

  /** However a stream is cut into (possibly resent, overlapping) chunks, the lines come out once, in order. */
  @Property
  void anyChunkingGivesTheSameLines(
      @ForAll @StringLength(max = 200) String text, @ForAll @IntRange(min = 1, max = 17) int chunk,
      @ForAll @IntRange(min = 0, max = 5) int overlap) {
    byte[] all = b(text.replace('\r', ' '));
    OutputAssembler a = new OutputAssembler();
    List<String> got = new ArrayList<>();
    for (int off = 0; off < all.length; off += chunk) {
      int from = Math.max(0, off - overlap);
      int to = Math.min(all.length, off + chunk);
      got.addAll(a.accept(from, java.util.Arrays.copyOfRange(all, from, to)));
    }
    got.addAll(a.flush());
    OutputAssembler whole = new OutputAssembler();
    List<String> expected = new ArrayList<>(whole.accept(0, all));
    expected.addAll(whole.flush());
    assertThat(got).isEqualTo(expected);
  }
}
