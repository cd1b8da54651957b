package dev.pods.net.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class ImdsRefusalsTest {
  @Test
  void aRiseIsWarnedOnceWithHowManyMoreWereRefused() {
    ImdsRefusals r = new ImdsRefusals();
    assertThat(r.observe("web-0", 0)).isEmpty();
    assertThat(r.observe("web-0", 5)).hasValueSatisfying(w -> assertThat(w)
        .isEqualTo("instance web-0: its guest tried to hold more than 64 connections to its metadata service; "
            + "5 more refused (5 in all)"));
    assertThat(r.observe("web-0", 5)).isEmpty();
    assertThat(r.observe("web-0", 12)).hasValueSatisfying(w -> assertThat(w).contains("7 more refused (12 in all)"));
  }

  @Test
  void aFirstReadingOrALowerOneCountsFromZero() {
    ImdsRefusals r = new ImdsRefusals();
    assertThat(r.observe("db-0", 3)).hasValueSatisfying(w -> assertThat(w).contains("3 more refused"));
    assertThat(r.observe("db-0", 1)).hasValueSatisfying(w -> assertThat(w).contains("1 more refused (1 in all)"));
    r.retain(Set.of());
    assertThat(r.observe("db-0", 1)).hasValueSatisfying(w -> assertThat(w).contains("1 more refused"));
  }

  @Test
  void theCountIsReadFromNftOutput() {
    assertThat(ImdsRefusals.parse("table ip p {\n\tcounter imds_refused {\n\t\tpackets 42 bytes 2520\n\t}\n}\n"))
        .isEqualTo(42);
    assertThatThrownBy(() -> ImdsRefusals.parse("Error: No such file or directory"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no packet count");
  }
}
