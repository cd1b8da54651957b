package dev.pods.net.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.spi.Cidr;
import dev.pods.spi.DnsHost;
import dev.pods.spi.FirewallRuleSpec;
import dev.pods.spi.NetworkFirewall;
import dev.pods.spi.NetworkProtocol;
import dev.pods.spi.NetworkSpec;
import dev.pods.spi.NetworkUplink;
import dev.pods.spi.NetworkVpc;
import java.util.ArrayList;
import java.util.List;

/** {@link NetworkSpec} to and from JSON, for the instance records in the state directory. Stateless. */
public final class SpecJson {
  /** The shared mapper (thread-safe once configured). */
  public static final ObjectMapper JSON = new ObjectMapper();

  private SpecJson() {}

  /** Encodes a spec. */
  public static ObjectNode write(NetworkSpec s) {
    ObjectNode o = JSON.createObjectNode();
    o.put("instanceId", s.instanceId());
    o.put("owner", s.owner());
    o.put("hostname", s.hostname());
    o.put("mac", s.mac());
    o.put("subnet", s.subnet().toString());
    o.put("privateAddress", Cidr.dotted(s.privateAddress()));
    o.put("gateway", Cidr.dotted(s.gateway()));
    ArrayNode dns = o.putArray("dnsServers");
    s.dnsServers().forEach(d -> dns.add(Cidr.dotted(d)));
    ArrayNode search = o.putArray("searchDomains");
    s.searchDomains().forEach(search::add);
    NetworkVpc vpc = s.vpc();
    if (vpc != null) {
      o.putObject("vpc").put("id", vpc.id()).put("cidr", vpc.cidr().toString());
    }
    if (s.hostNamespace() != null) {
      o.put("hostNamespace", s.hostNamespace());
    }
    NetworkUplink up = s.uplink();
    if (up != null) {
      o.putObject("uplink").put("bridge", up.bridge()).put("address", Cidr.dotted(up.address()))
          .put("prefixLength", up.prefixLength()).put("gateway", Cidr.dotted(up.gateway()));
    }
    ArrayNode kept = o.putArray("keptBackPorts");
    s.keptBackPorts().forEach(kept::add);
    ObjectNode fw = o.putObject("firewall");
    fw.put("enforced", s.firewall().enforced());
    ArrayNode rules = fw.putArray("ingress");
    for (FirewallRuleSpec r : s.firewall().ingress()) {
      ObjectNode rn = rules.addObject();
      rn.put("protocol", r.protocol().name()).put("fromPort", r.fromPort()).put("toPort", r.toPort());
      ArrayNode src = rn.putArray("sources");
      r.sources().forEach(c -> src.add(c.toString()));
    }
    o.put("resolver", s.resolver());
    ArrayNode hosts = o.putArray("dnsHosts");
    for (DnsHost h : s.dnsHosts()) {
      ArrayNode addresses = hosts.addObject().put("name", h.name()).putArray("addresses");
      h.addresses().forEach(a -> addresses.add(Cidr.dotted(a)));
    }
    return o;
  }

  /**
   * Decodes a spec.
   *
   * @throws IllegalArgumentException when the JSON does not describe a valid spec
   */
  public static NetworkSpec read(JsonNode o) {
    NetworkSpec.Builder b = NetworkSpec.builder().instanceId(o.path("instanceId").asText())
        .owner(o.path("owner").asText()).hostname(o.path("hostname").asText()).mac(o.path("mac").asText())
        .subnet(Cidr.parse(o.path("subnet").asText()))
        .privateAddress(Cidr.parseAddress(o.path("privateAddress").asText()))
        .gateway(Cidr.parseAddress(o.path("gateway").asText()));
    o.path("dnsServers").forEach(d -> b.dnsServer(Cidr.parseAddress(d.asText())));
    o.path("searchDomains").forEach(d -> b.searchDomain(d.asText()));
    JsonNode vpc = o.get("vpc");
    if (vpc != null) {
      b.vpc(new NetworkVpc(vpc.path("id").asText(), Cidr.parse(vpc.path("cidr").asText())));
    }
    JsonNode hns = o.get("hostNamespace");
    if (hns != null) {
      b.hostNamespace(hns.asText());
    }
    JsonNode up = o.get("uplink");
    if (up != null) {
      b.uplink(new NetworkUplink(up.path("bridge").asText(), Cidr.parseAddress(up.path("address").asText()),
          up.path("prefixLength").asInt(), Cidr.parseAddress(up.path("gateway").asText())));
    }
    o.path("keptBackPorts").forEach(p -> b.keptBackPort(p.asInt()));
    JsonNode fw = o.path("firewall");
    List<FirewallRuleSpec> rules = new ArrayList<>();
    fw.path("ingress").forEach(r -> {
      List<Cidr> src = new ArrayList<>();
      r.path("sources").forEach(c -> src.add(Cidr.parse(c.asText())));
      rules.add(new FirewallRuleSpec(NetworkProtocol.valueOf(r.path("protocol").asText()),
          r.path("fromPort").asInt(), r.path("toPort").asInt(), src));
    });
    b.firewall(new NetworkFirewall(fw.path("enforced").asBoolean(), rules));
    b.resolver(o.path("resolver").asBoolean(false));
    List<DnsHost> hosts = new ArrayList<>();
    o.path("dnsHosts").forEach(h -> {
      List<java.net.Inet4Address> addresses = new ArrayList<>();
      h.path("addresses").forEach(a -> addresses.add(Cidr.parseAddress(a.asText())));
      hosts.add(new DnsHost(h.path("name").asText(), addresses));
    });
    b.dnsHosts(hosts);
    return b.build();
  }
}
