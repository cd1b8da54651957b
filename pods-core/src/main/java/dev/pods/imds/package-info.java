/**
 * The metadata service (IMDS): one small HTTP server per instance, in the host JVM, that the guest agent talks
 * to. It serves only its instance's view ({@link dev.pods.imds.InstanceView}): its spec and phase blocks, its
 * meta-data, its addresses, its peers' addresses by selector and its secrets; it checks the instance's token;
 * it turns what the agent reports (status, output lines, phase results, exec results) into
 * {@link dev.pods.imds.AgentEvent}s; and it decides when a reload is due from a cryptographic
 * {@link dev.pods.imds.StateHash} of the view.
 *
 * <pre>{@code
 * try (ImdsServer imds = ImdsServer.builder()
 *         .binding(ImdsBinding.loopback())              // pods-net: ImdsBinding.inNamespace(ns, METADATA_ADDRESS)
 *         .view(view)
 *         .token(token)                                  // travels on the NoCloud seed
 *         .listener(event -> log.info("{}", event))     // called on a dispatcher thread, never a server thread
 *         .start()) {
 *   imds.update(view.withPeers(...));                    // long-polling agents see the new hash at once
 *   ExecResult r = imds.exec(ExecRequest.of("cat", "/etc/hostname")).join();
 * }
 * }</pre>
 *
 * <p>The wire protocol is described in {@link dev.pods.imds.ImdsProtocol}.
 */
@NullMarked
package dev.pods.imds;

import dev.pods.ExecRequest;
import dev.pods.ExecResult;
import org.jspecify.annotations.NullMarked;
