package dev.pods.template.internal;

import dev.pods.RestartPolicy;
import dev.pods.SourceLocation;
import dev.pods.spec.Mount;
import dev.pods.spec.NodePort;
import dev.pods.spec.Reference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The values of a template's {@code kind: instance} resource as decoded, before {@code Unit.Builder} checks
 * them, together with where each came from so that the builder's field problems get a template position.
 * Mutable; one per parse.
 */
public final class InstanceSpec {
  /** Where the resource starts. */
  public final SourceLocation start;

  /** The YAML node of each key, to locate {@code Unit.Builder}'s problems only when there are some. */
  final Map<String, Node> fieldNodes = new HashMap<>();

  private final Function<Node, SourceLocation> locator;

  public @Nullable String name;
  public @Nullable Integer count;
  public @Nullable String image;
  public @Nullable Integer processors;
  public @Nullable Integer memoryMib;
  public @Nullable Integer diskSizeGib;
  public @Nullable String vpc;
  public @Nullable String subnet;
  public @Nullable Boolean publicAddress;
  public final List<NodePort> nodePorts = new ArrayList<>();
  public final List<Mount> mounts = new ArrayList<>();
  public final List<String> roles = new ArrayList<>();
  public final List<Reference> secrets = new ArrayList<>();

  public @Nullable Reference zone;
  public @Nullable Reference node;
  public @Nullable Reference shape;
  public @Nullable Reference plan;
  public @Nullable Boolean uefi;
  public @Nullable Boolean secureBoot;
  public @Nullable String cloudType;
  public @Nullable Boolean tpm;
  public @Nullable Boolean vnc;
  public @Nullable Boolean gui;
  public @Nullable Boolean deleteProtection;
  public @Nullable Boolean skipSourceDestCheck;
  public @Nullable Boolean dhcpServer;
  public @Nullable Boolean hostAddress;
  public @Nullable Boolean publicAddress6;
  public final List<Reference> certificates = new ArrayList<>();
  public final List<Reference> pods = new ArrayList<>();
  public @Nullable String failover;
  /** {@code restart}, or null when absent. */
  public @Nullable RestartPolicy restart;
  /** {@code livenessTimeout} in seconds, or null when absent. */
  public @Nullable Integer livenessTimeoutSeconds;
  /** {@code readiness}: the readiness checks, in order. */
  public final List<dev.pods.spec.HealthCheck> readinessChecks = new ArrayList<>();
  /** {@code liveness}: the liveness checks, in order. */
  public final List<dev.pods.spec.HealthCheck> livenessChecks = new ArrayList<>();

  /**
   * @param start where the resource starts
   * @param locator the template location of a node
   */
  InstanceSpec(SourceLocation start, Function<Node, SourceLocation> locator) {
    this.start = start;
    this.locator = locator;
  }

  /**
   * The location of a field as {@code Unit.Builder} names it ({@code count}, {@code roles[2]}; its names are the
   * template keys), or of the resource when the field was not written.
   */
  public SourceLocation locate(String field) {
    int bracket = field.indexOf('[');
    Node n = fieldNodes.get(bracket < 0 ? field : field.substring(0, bracket));
    if (n == null) {
      return start;
    }
    if (bracket >= 0 && n instanceof SequenceNode seq && field.endsWith("]")) {
      try {
        int i = Integer.parseInt(field.substring(bracket + 1, field.length() - 1));
        if (i >= 0 && i < seq.getValue().size()) {
          n = seq.getValue().get(i);
        }
      } catch (NumberFormatException e) {
        // not an index: the list itself
      }
    }
    return locator.apply(n);
  }
}
