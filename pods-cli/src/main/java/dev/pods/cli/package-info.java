/** The {@code pods} command line: validate, render and diff templates (and, later, run pods). */
@NullMarked
package dev.pods.cli;

import org.jspecify.annotations.NullMarked;
