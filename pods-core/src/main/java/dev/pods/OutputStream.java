package dev.pods;

/** Which stream an output line of a block came from. */
public enum OutputStream {
  /** The block's standard output. */
  STDOUT,
  /** The block's standard error. */
  STDERR
}
