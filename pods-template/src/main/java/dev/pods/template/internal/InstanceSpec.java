package dev.pods.template.internal;

import dev.pods.SourceLocation;
import dev.pods.spec.Mount;
import dev.pods.spec.NodePort;
import dev.pods.spec.Reference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The values of a template's {@code kind: instance} resource as decoded, before {@code Unit.Builder} checks
 * them, together with where each came from so that the builder's field problems get a template position.
 * Mutable; one per parse.
 */
public final class InstanceSpec {
  /** Where the resource starts. */
  public final SourceLocation start;

  /** The fields' locations, by the field names {@code Unit.Builder} uses ({@code count}, {@code roles[2]}). */
  public final Map<String, SourceLocation> locations = new HashMap<>();

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

  /** @param start where the resource starts */
  public InstanceSpec(SourceLocation start) {
    this.start = start;
  }

  /** The location of a builder field, or of the resource when the field was not written. */
  public SourceLocation locate(String field) {
    SourceLocation l = locations.get(field);
    if (l == null) {
      int bracket = field.indexOf('[');
      l = bracket < 0 ? null : locations.get(field.substring(0, bracket));
    }
    return l == null ? start : l;
  }
}
