/**
 * The parts of a unit's description: references, firewall rules, DNS records, journals, node ports, mounts
 * and the compatibility options of Pritunl Cloud templates. All are immutable records that validate in their
 * constructors ({@link java.lang.IllegalArgumentException} with the reason) and copy their collections.
 */
@NullMarked
package dev.pods.spec;

import org.jspecify.annotations.NullMarked;
