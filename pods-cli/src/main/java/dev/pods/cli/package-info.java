/** The {@code pods} command line: validate, render and diff templates; run pods on this host ({@code up}) and talk to them ({@code ps}, {@code logs}, {@code exec}, {@code wait}, {@code down}). */
@NullMarked
package dev.pods.cli;

import org.jspecify.annotations.NullMarked;
