package dev.pods.template.internal;

import dev.pods.Phase;
import dev.pods.Script;
import dev.pods.spec.JournalInput;
import dev.pods.spec.Mount;
import dev.pods.spec.Protocol;
import dev.pods.spec.RecordType;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Template words to the model's enums, through maps built once. The model's own {@code fromId} methods
 * lower-case every constant's name on every call, which showed in the parse profile.
 */
final class Ids {
  private static final Map<String, Script.Language> LANGUAGES = index(Script.Language.values(), Script.Language::id);
  private static final Map<String, Phase> PHASES = index(Phase.values(), Phase::id);
  private static final Map<String, Protocol> PROTOCOLS = index(Protocol.values(), Protocol::id);
  private static final Map<String, RecordType> RECORD_TYPES = index(RecordType.values(), RecordType::id);
  private static final Map<String, JournalInput.Type> INPUT_TYPES =
      index(JournalInput.Type.values(), JournalInput.Type::id);
  private static final Map<String, Mount.Type> MOUNT_TYPES = index(Mount.Type.values(), Mount.Type::id);

  private Ids() {}

  private static <E> Map<String, E> index(E[] values, Function<E, String> id) {
    Map<String, E> m = new HashMap<>();
    for (E e : values) {
      m.put(id.apply(e), e);
    }
    return Map.copyOf(m);
  }

  static Script.@Nullable Language language(String id) {
    return LANGUAGES.get(id);
  }

  /** The phase, or {@code null}; {@link Phase#parse(String)} gives the error text. */
  static @Nullable Phase phase(String id) {
    return PHASES.get(id);
  }

  static @Nullable Protocol protocol(String id) {
    return PROTOCOLS.get(id);
  }

  static @Nullable RecordType recordType(String id) {
    return RECORD_TYPES.get(id);
  }

  static JournalInput.@Nullable Type inputType(String id) {
    return INPUT_TYPES.get(id);
  }

  static Mount.@Nullable Type mountType(String id) {
    return MOUNT_TYPES.get(id);
  }
}
