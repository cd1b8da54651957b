package dev.pods.net.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Parsers of {@code ip -j} output (iproute2 6.x JSON). Pure and stateless. */
public final class IpJson {
  private IpJson() {}

  /**
   * One link of {@code ip -j -d link show}.
   *
   * @param name the interface name
   * @param kind the link kind from the details ({@code bridge}, {@code veth}, {@code tun}), or null
   * @param master the master bridge's name, or null
   * @param mac the link-layer address, or null
   * @param up whether the link is administratively up
   */
  public record Link(String name, @Nullable String kind, @Nullable String master, @Nullable String mac, boolean up) {}

  /**
   * One IPv4 address of {@code ip -j addr show}.
   *
   * @param device the interface
   * @param address the address
   * @param prefixLength its prefix length
   */
  public record Address(String device, String address, int prefixLength) {}

  /** Parses {@code ip -j [-d] link show}. */
  public static List<Link> links(String json) throws IOException {
    List<Link> out = new ArrayList<>();
    JsonNode root = parse(json);
    for (JsonNode l : root) {
      String name = l.path("ifname").asText(null);
      if (name == null) {
        continue;
      }
      String kind = l.path("linkinfo").path("info_kind").asText(null);
      String master = l.path("master").asText(null);
      String mac = l.path("address").asText(null);
      boolean up = false;
      for (JsonNode f : l.path("flags")) {
        up |= f.asText().equals("UP");
      }
      out.add(new Link(name, kind, master, mac, up));
    }
    return out;
  }

  /** Parses the IPv4 addresses of {@code ip -j addr show}. */
  public static List<Address> addresses(String json) throws IOException {
    List<Address> out = new ArrayList<>();
    for (JsonNode l : parse(json)) {
      String dev = l.path("ifname").asText();
      for (JsonNode a : l.path("addr_info")) {
        if (a.path("family").asText().equals("inet")) {
          out.add(new Address(dev, a.path("local").asText(), a.path("prefixlen").asInt()));
        }
      }
    }
    return out;
  }

  /** The alias ({@code ifalias}) of the first link of {@code ip -j link show dev X}, or {@code null}. */
  public static @Nullable String linkAlias(String json) throws IOException {
    for (JsonNode l : parse(json)) {
      return l.path("ifalias").isTextual() ? l.path("ifalias").asText() : null;
    }
    return null;
  }

  private static JsonNode parse(String json) throws IOException {
    String t = json.strip();
    if (t.isEmpty()) {
      return SpecJson.JSON.createArrayNode();
    }
    JsonNode root = SpecJson.JSON.readTree(t);
    if (!root.isArray()) {
      throw new IOException("ip -j output is not a JSON array: " + (t.length() > 80 ? t.substring(0, 80) : t));
    }
    return root;
  }
}
