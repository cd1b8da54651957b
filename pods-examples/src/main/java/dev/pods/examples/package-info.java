/** Example pods, described in Markdown templates shipped as resources, and the demo. */
@NullMarked
package dev.pods.examples;

import org.jspecify.annotations.NullMarked;
