package dev.pods;

import org.jspecify.annotations.Nullable;

/** A host networking operation (namespace, link, address, nftables, dnsmasq, IPAM) failed. */
public class NetworkException extends PodsException {
  private static final long serialVersionUID = 1L;

  /** @param message names the operation and the instance network concerned */
  public NetworkException(String message) {
    super(message);
  }

  /** @param message names the operation and the instance network concerned */
  public NetworkException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
