/**
 * The implementation of {@link dev.pods.PodRuntime}: not API; reach it through {@link dev.pods.PodRuntime#builder()}.
 * Classes here are public only so that the API package can build them, and may change without notice.
 */
@NullMarked
package dev.pods.runtime;

import org.jspecify.annotations.NullMarked;
