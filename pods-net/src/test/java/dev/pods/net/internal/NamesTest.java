package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class NamesTest {
  @Property(tries = 200)
  void linkNamesFitTheKernelLimitAndGroupsFitIproute(@ForAll @LongRange(min = 1, max = (1 << 20) - 1) long index,
      @ForAll @LongRange(min = 1, max = (1 << 20) - 1) long vpc) {
    Names n = Names.of("abcdefghijkl", "abcdef", "some-instance", index, vpc);
    for (String link : List.of(n.bridge(), n.tap(), n.vmVeth(), n.uplinkVeth(), n.vpcVeth(), n.vpcBridge())) {
      assertThat(link).hasSizeLessThanOrEqualTo(15).startsWith("abcdef");
    }
    assertThat(n.group()).isBetween(1L, (long) Integer.MAX_VALUE);
    assertThat(n.group() & 0xfffff).isEqualTo(index);
  }

  @Test
  void namesAndMacsAreDeterministicAndDistinct() {
    Names a = Names.of("pods", "pods", "web-0", 5, -1);
    assertThat(Names.of("pods", "pods", "web-0", 5, -1)).isEqualTo(a);
    assertThat(a.namespace()).isEqualTo("pods-web-0");
    assertThat(a.vpcBridge()).isNull();
    assertThat(List.of(a.gwMac(), a.upMac(), a.vpcMac())).doesNotHaveDuplicates()
        .allMatch(m -> m.matches("02(:[0-9a-f]{2}){5}"));
    assertThat(Names.of("pods", "pods", "web-1", 5, -1).upMac()).isNotEqualTo(a.upMac());
    assertThat(Names.table("pt12ab")).isEqualTo("pt12ab");
  }

  @Test
  void rejectsOverlongPrefixesAndIndexes() {
    assertThatThrownBy(() -> Names.of("pods", "toolong", "x", 1, -1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Names.group("pods", 1 << 20)).isInstanceOf(IllegalArgumentException.class);
  }
}
