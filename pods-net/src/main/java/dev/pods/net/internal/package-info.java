/** Implementation details of pods-net: command programs, parsers, namespaces through JNA, state files. */
@NullMarked
package dev.pods.net.internal;

import org.jspecify.annotations.NullMarked;
