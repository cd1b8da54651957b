package dev.pods;

/**
 * No hypervisor or network backend can run on this host; the message lists every candidate and why it is
 * unavailable.
 */
public class BackendUnavailableException extends PodsException {
  private static final long serialVersionUID = 1L;

  /** @param message every candidate and the reason it is unavailable */
  public BackendUnavailableException(String message) {
    super(message);
  }
}
