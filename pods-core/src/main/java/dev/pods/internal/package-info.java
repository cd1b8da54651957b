/** Implementation details shared by pods modules; not API, may change without notice. */
@NullMarked
package dev.pods.internal;

import org.jspecify.annotations.NullMarked;
