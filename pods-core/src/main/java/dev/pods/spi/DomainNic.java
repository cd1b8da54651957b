package dev.pods.spi;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A virtio network interface of a domain, attached either to an existing tap device (created and owned by the
 * network driver) or to an existing bridge. The hypervisor never creates host networking itself.
 *
 * <p>Immutable; the MAC address is kept in lower case.
 *
 * @param attachment how the NIC is connected on the host
 * @param device the tap or bridge name (1 to 15 characters, as Linux interface names)
 * @param mac the guest's MAC address, {@code xx:xx:xx:xx:xx:xx}
 */
public record DomainNic(Attachment attachment, String device, String mac) {
  private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
  private static final Pattern IFNAME = Pattern.compile("[^\\s/:]{1,15}");

  /** How a NIC is connected on the host. */
  public enum Attachment {
    /** An existing tap device, opened by the emulator (libvirt {@code type='ethernet'}, unmanaged). */
    TAP,
    /** An existing Linux bridge; the hypervisor creates a tap on it for the life of the domain. */
    BRIDGE
  }

  /** Validates the MAC address and the device name. */
  public DomainNic {
    Objects.requireNonNull(attachment, "attachment");
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(mac, "mac");
    mac = mac.toLowerCase(Locale.ROOT);
    if (!MAC.matcher(mac).matches()) {
      throw new IllegalArgumentException("not a MAC address: " + mac);
    }
    if (!IFNAME.matcher(device).matches()) {
      throw new IllegalArgumentException("not an interface name: " + device);
    }
  }

  /** A NIC on an existing tap device. */
  public static DomainNic tap(String tap, String mac) {
    return new DomainNic(Attachment.TAP, tap, mac);
  }

  /** A NIC on an existing bridge. */
  public static DomainNic bridge(String bridge, String mac) {
    return new DomainNic(Attachment.BRIDGE, bridge, mac);
  }
}
