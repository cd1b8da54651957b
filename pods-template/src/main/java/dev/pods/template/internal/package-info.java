/**
 * The implementation of {@link dev.pods.template.Templates}: splitting Markdown into prose, resource and script
 * fences, decoding YAML resources with their source positions, and rendering units back to Markdown. Not API:
 * may change without notice.
 */
@NullMarked
package dev.pods.template.internal;

import org.jspecify.annotations.NullMarked;
