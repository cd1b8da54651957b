package dev.pods.imds;

import dev.pods.spec.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/** Resolves {@code +/kind/name/selector} against one {@link InstanceView}. Stateless. */
final class QueryResolver {
  private QueryResolver() {}

  /** The value, lists joined by commas; empty when the view has no such thing. */
  static Optional<String> resolve(InstanceView v, Reference ref) {
    String sel = ref.selector();
    if (sel == null) {
      return Optional.empty();
    }
    return switch (ref.kind()) {
      case "unit" -> unit(v, ref.name().equals("self") ? v.unit() : ref.name(), sel);
      case "instance" -> instance(v, ref.name(), sel);
      case "secret" -> Optional.ofNullable(v.secrets().get(ref.name())).map(f -> f.get(sel));
      case "pod" -> ref.name().equals("self") || ref.name().equals(v.pod())
          ? (sel.equals("name") ? Optional.of(v.pod()) : Optional.empty())
          : Optional.empty();
      default -> Optional.empty();
    };
  }

  private static Optional<String> unit(InstanceView v, String name, String sel) {
    List<PeerInstance> peers = v.units().get(name);
    if (peers == null) {
      return Optional.empty();
    }
    Predicate<PeerInstance> all = p -> true;
    Predicate<PeerInstance> healthy = PeerInstance::healthy;
    Predicate<PeerInstance> unhealthy = p -> !p.healthy();
    return switch (sel) {
      case "private_ips" -> Optional.of(ips(peers, all, PeerInstance::privateIps));
      case "public_ips" -> Optional.of(ips(peers, all, PeerInstance::publicIps));
      case "healthy_private_ips" -> Optional.of(ips(peers, healthy, PeerInstance::privateIps));
      case "healthy_public_ips" -> Optional.of(ips(peers, healthy, PeerInstance::publicIps));
      case "unhealthy_private_ips" -> Optional.of(ips(peers, unhealthy, PeerInstance::privateIps));
      case "unhealthy_public_ips" -> Optional.of(ips(peers, unhealthy, PeerInstance::publicIps));
      case "count" -> Optional.of(Integer.toString(peers.size()));
      case "healthy_count" -> Optional.of(Long.toString(peers.stream().filter(healthy).count()));
      case "instances" -> Optional.of(String.join(",", peers.stream().map(PeerInstance::name).toList()));
      default -> Optional.empty();
    };
  }

  private static String ips(
      List<PeerInstance> peers, Predicate<PeerInstance> filter, Function<PeerInstance, List<String>> f) {
    List<String> out = new ArrayList<>();
    peers.stream().sorted((a, b) -> Integer.compare(a.index(), b.index())).filter(filter).forEach(p -> out.addAll(f.apply(p)));
    return String.join(",", out);
  }

  private static Optional<String> instance(InstanceView v, String name, String sel) {
    if (name.equals("self") || name.equals(v.hostname()) || name.equals(v.instanceId())) {
      return switch (sel) {
        case "id" -> Optional.of(v.instanceId());
        case "name", "hostname" -> Optional.of(v.hostname());
        case "unit" -> Optional.of(v.unit());
        case "index" -> Optional.of(Integer.toString(v.index()));
        case "pod" -> Optional.of(v.pod());
        case "private_ips" -> Optional.of(String.join(",", v.privateIps()));
        case "public_ips" -> Optional.of(String.join(",", v.publicIps()));
        case "private_ip" -> Optional.of(v.privateIps().isEmpty() ? "" : v.privateIps().get(0));
        case "public_ip" -> Optional.of(v.publicIps().isEmpty() ? "" : v.publicIps().get(0));
        case "spec_version" -> Optional.of(v.specVersion());
        default -> Optional.empty();
      };
    }
    for (Map.Entry<String, List<PeerInstance>> u : v.units().entrySet()) {
      for (PeerInstance p : u.getValue()) {
        if (p.name().equals(name)) {
          return switch (sel) {
            case "name", "hostname" -> Optional.of(p.name());
            case "unit" -> Optional.of(u.getKey());
            case "index" -> Optional.of(Integer.toString(p.index()));
            case "private_ips" -> Optional.of(String.join(",", p.privateIps()));
            case "public_ips" -> Optional.of(String.join(",", p.publicIps()));
            case "private_ip" -> Optional.of(p.privateIps().isEmpty() ? "" : p.privateIps().get(0));
            case "public_ip" -> Optional.of(p.publicIps().isEmpty() ? "" : p.publicIps().get(0));
            case "healthy" -> Optional.of(Boolean.toString(p.healthy()));
            default -> Optional.empty();
          };
        }
      }
    }
    return Optional.empty();
  }
}
