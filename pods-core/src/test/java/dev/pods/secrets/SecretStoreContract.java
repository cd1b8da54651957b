package dev.pods.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pods.spi.SecretStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What every {@link SecretStore} does: a subclass makes a fresh store and reopens it as a later process would. */
abstract class SecretStoreContract {
  static final String PLANTED = "pl4nted-S3CRET-value";

  abstract SecretStore store();

  /** The store {@link #store()} made last, as a later runtime sees it (the same object for a memory store). */
  abstract SecretStore reopen();

  @Test
  void putReplacesGetCopiesAndRemoveIsIdempotent() {
    SecretStore s = store();
    assertThat(s.get("shop-db")).isEmpty();
    Map<String, String> fields = new HashMap<>(Map.of("password", "one", "user", "shop"));
    s.put("shop-db", fields);
    fields.put("password", "changed outside");
    assertThat(s.get("shop-db")).contains(Map.of("password", "one", "user", "shop"));
    s.put("shop-db", Map.of("password", "two"));
    assertThat(reopen().get("shop-db")).contains(Map.of("password", "two"));
    assertThat(s.names()).containsExactly("shop-db");
    s.remove("shop-db");
    s.remove("shop-db");
    assertThat(s.get("shop-db")).isEmpty();
    assertThat(s.names()).isEmpty();
  }

  @Test
  void listenersHearPutsAndRemovesUntilClosed() {
    SecretStore s = store();
    List<String> heard = new ArrayList<>();
    SecretStore.Registration r = s.onChange(name -> {
      heard.add(name + "=" + s.get(name).map(m -> m.get("k")).orElse("-"));
    });
    s.onChange(name -> {
      throw new IllegalStateException("a failing listener is skipped");
    });
    s.put("a", Map.of("k", "1"));
    s.remove("a");
    s.remove("a"); // nothing removed: nobody is told
    r.close();
    r.close();
    s.put("a", Map.of("k", "2"));
    assertThat(heard).containsExactly("a=1", "a=-");
  }

  @Test
  void badNamesAndKeysAreRefusedWithoutTheValue() {
    SecretStore s = store();
    assertThatThrownBy(() -> s.put("../etc", Map.of("k", PLANTED)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'../etc'")
        .hasMessageNotContaining(PLANTED);
    assertThatThrownBy(() -> s.put("ok", Map.of("bad key", PLANTED)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'bad key'")
        .hasMessageNotContaining(PLANTED);
    assertThat(s.get("ok")).isEmpty();
    assertThat(s.toString()).doesNotContain(PLANTED);
  }

  @Test
  void toStringNamesNoValue() {
    SecretStore s = store();
    s.put("shop-db", Map.of("password", PLANTED));
    assertThat(s.toString()).doesNotContain(PLANTED);
  }
}
