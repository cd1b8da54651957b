package dev.pods.template;

import dev.pods.Problem;
import dev.pods.TemplateException;
import dev.pods.Unit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What reading one template gave: the unit when the template has no errors, and every problem (errors and
 * warnings) in source order, each with its file, line and column.
 *
 * <p>Immutable and thread-safe.
 */
public final class ParseResult {
  private final String source;
  private final @Nullable Unit unit;
  private final List<Problem> problems;
  private final List<Problem> advice;

  ParseResult(String source, @Nullable Unit unit, List<Problem> problems) {
    this(source, unit, problems, List.of());
  }

  ParseResult(String source, @Nullable Unit unit, List<Problem> problems, List<Problem> advice) {
    this.source = Objects.requireNonNull(source, "source");
    this.problems = List.copyOf(problems);
    this.advice = List.copyOf(advice);
    boolean errors = this.problems.stream().anyMatch(Problem::isError);
    if ((unit == null) != errors) {
      throw new IllegalArgumentException("a result holds a unit exactly when it has no errors");
    }
    this.unit = unit;
  }

  /** The template's name as given (usually its path), the {@code source} of every problem's location. */
  public String source() {
    return source;
  }

  /** The unit, present exactly when there is no error. */
  public Optional<Unit> unit() {
    return Optional.ofNullable(unit);
  }

  /** Every problem, errors and warnings, in source order (line, then column). */
  public List<Problem> problems() {
    return problems;
  }

  /**
   * Warnings about what a valid template leaves open rather than about what is wrong in it: a unit without a
   * firewall ({@code kind: firewall}) has every port of its instances open to its VPC peers and, with a public
   * address, to anyone. Empty when the template has errors. {@code pods validate} prints them with the problems.
   */
  public List<Problem> advice() {
    return advice;
  }

  /** Only the errors, in source order. */
  public List<Problem> errors() {
    return problems.stream().filter(Problem::isError).toList();
  }

  /** Only the warnings, in source order. */
  public List<Problem> warnings() {
    return problems.stream().filter(p -> !p.isError()).toList();
  }

  /** Whether the template has at least one error (and so no unit). */
  public boolean hasErrors() {
    return unit == null;
  }

  /**
   * The unit.
   *
   * @throws TemplateException carrying every problem (errors and warnings), when there is an error
   */
  public Unit orThrow() {
    if (unit == null) {
      throw new TemplateException(source, problems);
    }
    return unit;
  }

  @Override
  public String toString() {
    return "ParseResult[" + source + ", " + (unit == null ? "no unit" : "unit '" + unit.name() + "'") + ", "
        + problems.size() + " problems]";
  }
}
