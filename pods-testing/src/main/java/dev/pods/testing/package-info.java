/**
 * In-memory fakes of the SPIs, for fast tests without root, libvirt or namespaces (no I/O beyond loopback
 * sockets). They pass the same contract test suites as the real implementations and add fault knobs. Fakes
 * are never registered as services.
 *
 * <pre>{@code
 * InMemoryHypervisor hv = InMemoryHypervisor.create();
 * hv.failNext("start");            // the next start throws a BackendException
 * }</pre>
 */
@NullMarked
package dev.pods.testing;

import org.jspecify.annotations.NullMarked;
