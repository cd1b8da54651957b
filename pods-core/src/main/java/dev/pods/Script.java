package dev.pods;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A script block that runs inside the guest: its language, its {@link Phase}, its source text and an
 * optional timeout. Its position in the document is its position in {@link Unit#blocks()}.
 *
 * <p>In a template it is a fence such as {@code ```bash {phase=reload, timeout=2m}}. Shell blocks
 * ({@code shell}, {@code bash}, {@code sh}) run as a fresh process each with {@code -e}; Python blocks share one
 * interpreter per agent run. Exported variables and the working directory carry from block to block.
 *
 * <p>The source is normalized: line breaks become {@code \n} and trailing blank lines are removed. A blank
 * source is rejected.
 *
 * @param language how the block runs
 * @param phase when the block runs
 * @param source the script text, never blank
 * @param timeout how long the block may run, or {@code null} for the runtime's default
 */
public record Script(Language language, Phase phase, String source, @Nullable Duration timeout)
    implements Block {

  /** The longest timeout a block may ask for. */
  public static final Duration MAX_TIMEOUT = Duration.ofHours(24);

  /** How a block runs; the fence word of a template. */
  public enum Language {
    /** {@code shell}: Pritunl Cloud's word; runs with bash when the guest has it, else sh. */
    SHELL,
    /** {@code bash}: runs with bash. */
    BASH,
    /** {@code sh}: runs with the guest's POSIX sh. */
    SH,
    /** {@code python}: runs in the agent's python3 interpreter. */
    PYTHON;

    private static final java.util.Map<String, Language> BY_ID = new java.util.HashMap<>();

    static {
      for (Language v : values()) {
        BY_ID.put(v.id, v);
      }
    }

    private final String id = name().toLowerCase(Locale.ROOT);

    /** The fence word: {@code shell}, {@code bash}, {@code sh} or {@code python}. */
    public String id() {
      return id;
    }

    /** Whether this is one of the shell languages. */
    public boolean isShell() {
      return this != PYTHON;
    }

    /**
     * The language for a fence word, or {@code null} when the word names no script language (such a fence
     * is documentation).
     */
    public static @Nullable Language fromId(String id) {
      return BY_ID.get(id);
    }
  }

  /** Normalizes and validates. */
  public Script {
    Objects.requireNonNull(language, "language");
    Objects.requireNonNull(phase, "phase");
    Objects.requireNonNull(source, "source");
    source = stripTrailingBlankLines(Text.normalizeNewlines(source));
    if (source.isBlank()) {
      throw new IllegalArgumentException("script is empty");
    }
    if (timeout != null && (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0)) {
      throw new IllegalArgumentException("timeout must be more than 0 and at most 24h, not " + timeout);
    }
  }

  private static String stripTrailingBlankLines(String s) {
    int end = s.length();
    while (end > 0) {
      int nl = s.lastIndexOf('\n', end - 1);
      if (nl < 0 || !s.substring(nl + 1, end).isBlank()) {
        break;
      }
      end = nl;
    }
    return s.substring(0, end);
  }

  /** A {@code shell} block of phase {@code initial}. */
  public static Script shell(String source) {
    return new Script(Language.SHELL, Phase.INITIAL, source, null);
  }

  /** A {@code shell} block of the given phase. */
  public static Script shell(Phase phase, String source) {
    return new Script(Language.SHELL, phase, source, null);
  }

  /** A {@code bash} block of the given phase. */
  public static Script bash(Phase phase, String source) {
    return new Script(Language.BASH, phase, source, null);
  }

  /** A {@code python} block of the given phase. */
  public static Script python(Phase phase, String source) {
    return new Script(Language.PYTHON, phase, source, null);
  }

  /** This block with another phase. */
  public Script withPhase(Phase newPhase) {
    return new Script(language, newPhase, source, timeout);
  }

  /** This block with another timeout ({@code null}: the runtime's default). */
  public Script withTimeout(@Nullable Duration newTimeout) {
    return new Script(language, phase, source, newTimeout);
  }
}
