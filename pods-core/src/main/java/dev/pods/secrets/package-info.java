/**
 * {@link dev.pods.spi.SecretStore} implementations for the host application: {@link dev.pods.secrets.InMemorySecretStore}
 * (values live in the JVM only) and {@link dev.pods.secrets.FileSecretStore} (one file per secret in a folder only
 * its owner may read).
 *
 * <pre>{@code
 * SecretStore secrets = FileSecretStore.open(Path.of("/var/lib/myapp/secrets"));
 * secrets.put("shop-db", Map.of("password", generated));
 * try (PodRuntime runtime = PodRuntime.localBuilder().secrets(secrets).build()) {
 *   runtime.deploy(shop);            // units declaring +/secret/shop-db read it with pods get
 *   secrets.put("shop-db", Map.of("password", rotated));   // their reload blocks run with the new value
 * }
 * }</pre>
 */
@NullMarked
package dev.pods.secrets;

import org.jspecify.annotations.NullMarked;
