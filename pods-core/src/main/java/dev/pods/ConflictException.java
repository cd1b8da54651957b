package dev.pods;

/** A state-store write lost a race: the stored version is not the one the writer expected. */
public class ConflictException extends PodsException {
  private static final long serialVersionUID = 1L;

  /** @param message names the record and both versions */
  public ConflictException(String message) {
    super(message);
  }
}
