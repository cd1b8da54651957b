package dev.pods.template.internal;

import dev.pods.Problem;
import dev.pods.SourceLocation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Collects the problems of one template, at most {@link Limits#MAX_PROBLEMS}; past that it records that it
 * stopped and ignores the rest. Not thread-safe: one per parse.
 */
public final class Problems {
  private static final Comparator<Problem> BY_POSITION =
      Comparator.comparingInt((Problem p) -> p.location() == null ? 0 : p.location().line())
          .thenComparingInt(p -> p.location() == null ? 0 : p.location().column());

  private final String source;
  private final List<Problem> list = new ArrayList<>();
  private boolean errors;
  private boolean full;
  private int lastLine = 1;

  /** @param source the template's name, used in every location */
  public Problems(String source) {
    this.source = source;
  }

  /** The template's name. */
  public String source() {
    return source;
  }

  /** A location in this template (1-based line and column; smaller values are raised to 1). */
  public SourceLocation at(int line, int column) {
    return new SourceLocation(source, Math.max(1, line), Math.max(1, column));
  }

  /** Records an error. */
  public void error(SourceLocation where, String field, String message) {
    add(Problem.error(where, field, message));
  }

  /** Records a warning. */
  public void warning(SourceLocation where, String field, String message) {
    add(Problem.warning(where, field, message));
  }

  /** Records a problem made elsewhere. */
  public void add(Problem p) {
    if (p.isError()) {
      errors = true;
    }
    if (full) {
      return;
    }
    if (list.size() == Limits.MAX_PROBLEMS) {
      // Stopping is itself an error (the note added by sorted()): a template not read to its end is not vouched for.
      full = true;
      errors = true;
      SourceLocation l = p.location();
      lastLine = l == null ? lastLine : l.line();
      return;
    }
    list.add(p);
  }

  /** Whether any error was recorded (also past the cap), or the cap was reached. */
  public boolean hasErrors() {
    return errors;
  }

  /** Whether the cap was reached: callers may stop looking for more. */
  public boolean isFull() {
    return full;
  }

  /** The problems in source order (stable for equal positions), with a last note when the cap was reached. */
  public List<Problem> sorted() {
    List<Problem> out = new ArrayList<>(list);
    out.sort(BY_POSITION);
    if (full) {
      out.add(
          Problem.error(
              at(lastLine, 1),
              "template",
              "too many problems: stopped after " + Limits.MAX_PROBLEMS + " (the limit)"));
    }
    return out;
  }
}
