package dev.pods.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.BackendUnavailableException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProvidersTest {
  record Candidate(String name, int priority, Optional<String> reason) {}

  private static Candidate choose(List<Candidate> candidates) {
    return Providers.choose(candidates, Candidate::name, Candidate::priority, Candidate::reason, "thing");
  }

  @Test
  void theAvailableProviderOfHighestPriorityWins() {
    Candidate low = new Candidate("low", 1, Optional.empty());
    Candidate high = new Candidate("high", 9, Optional.empty());
    Candidate best = new Candidate("best", 99, Optional.of("no library"));
    assertThat(choose(List.of(low, best, high))).isEqualTo(high);
  }

  @Test
  void noneAvailableListsEveryCandidateAndItsReason() {
    assertThatThrownBy(
            () ->
                choose(
                    List.of(
                        new Candidate("a", 1, Optional.of("no libvirt0")),
                        new Candidate("b", 2, Optional.of("not root")))))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessage("no thing is available:\n  a: no libvirt0\n  b: not root");
    assertThatThrownBy(() -> choose(List.of()))
        .hasMessage("no thing is available: none is registered");
  }

  @Test
  void aProviderThatThrowsCountsAsUnavailable() {
    assertThatThrownBy(
            () ->
                Providers.choose(
                    List.of("x"), s -> s, s -> 1, s -> { throw new IllegalStateException("boom"); }, "thing"))
        .hasMessageContaining("java.lang.IllegalStateException: boom");
  }

  @Test
  void withoutBackendsOnTheClassPathNoneIsFound() {
    assertThatThrownBy(Providers::hypervisor)
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessage("no hypervisor (add dev.pods:pods-kvm to the class path) is available: none is registered");
  }
}
