/**
 * In-memory fakes of the SPIs for fast tests: no root, no I/O beyond loopback sockets. They pass the same contract
 * suites as the real implementations and are never registered as services.
 */
@NullMarked
package dev.pods.testing;

import org.jspecify.annotations.NullMarked;
