package dev.pods;

import dev.pods.internal.SafeText;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A pod, unit or script description is invalid. Carries every problem found, not only the first, so a user
 * fixes them all in one round.
 */
public class PodSpecException extends PodsException {
  private static final long serialVersionUID = 1L;

  private final transient List<Problem> problems;

  /**
   * @param what what was being built or read, e.g. {@code "unit 'web'"}
   * @param problems every problem found (errors and warnings); at least one error
   */
  public PodSpecException(String what, List<Problem> problems) {
    super(format(what, problems));
    this.problems = List.copyOf(problems);
  }

  private static String format(String what, List<Problem> problems) {
    long errors = problems.stream().filter(Problem::isError).count();
    return "invalid "
        + SafeText.oneLine(what, 1000)
        + " ("
        + errors
        + (errors == 1 ? " error" : " errors")
        + "):\n  "
        + problems.stream().map(Problem::toString).collect(Collectors.joining("\n  "));
  }

  /** Every problem found, errors and warnings, in source order where there is one. */
  public List<Problem> problems() {
    return problems;
  }

  /** Only the errors. */
  public List<Problem> errors() {
    return problems.stream().filter(Problem::isError).toList();
  }
}
