package dev.pods.imds;

import dev.pods.Unit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Everything one instance may learn from its metadata service: who it is, its spec (the unit whose blocks
 * it runs) and the spec's version, its own addresses, the units it can see with their instances' addresses and
 * health, and the secrets it may read. The runtime builds a new view whenever something changes and hands it
 * to {@link ImdsServer#update(InstanceView)}; the {@link StateHash} of the view decides whether a reload is due.
 *
 * <p>Immutable and thread-safe; maps are sorted copies, so two equal views have the same hash.
 *
 * @param pod the pod's name
 * @param unit the instance's unit name
 * @param index the instance's index in its unit
 * @param instanceId a stable identifier of the instance, e.g. {@code shop-web-0}
 * @param hostname the guest's host name
 * @param spec the unit whose blocks the instance runs
 * @param specVersion the version of the spec, e.g. a commit counter or hash (letters, digits, {@code ._:-})
 * @param privateIps the instance's private addresses
 * @param publicIps the instance's public addresses
 * @param units the units the instance may query by name (its own unit included), each with its instances
 * @param secrets the secrets the instance may read: name to fields ({@code +/secret/NAME/FIELD})
 * @param initialized whether the instance already completed its {@code initial} phase once (the runtime keeps
 *     it; a guest without a persistent disk learns from it that a boot is not the first)
 */
public record InstanceView(
    String pod,
    String unit,
    int index,
    String instanceId,
    String hostname,
    Unit spec,
    String specVersion,
    List<String> privateIps,
    List<String> publicIps,
    Map<String, List<PeerInstance>> units,
    Map<String, Map<String, String>> secrets,
    boolean initialized) {

  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  /** Validates and makes sorted, immutable copies. */
  public InstanceView {
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(unit, "unit");
    Objects.requireNonNull(spec, "spec");
    requireToken("instanceId", instanceId);
    requireToken("specVersion", specVersion);
    requireToken("hostname", hostname);
    if (index < 0) {
      throw new IllegalArgumentException("index must be >= 0, not " + index);
    }
    privateIps = List.copyOf(privateIps);
    publicIps = List.copyOf(publicIps);
    TreeMap<String, List<PeerInstance>> u = new TreeMap<>();
    units.forEach((k, v) -> u.put(k, List.copyOf(v)));
    units = Collections.unmodifiableMap(u);
    TreeMap<String, Map<String, String>> s = new TreeMap<>();
    secrets.forEach((k, v) -> s.put(k, Collections.unmodifiableMap(new TreeMap<>(v))));
    secrets = Collections.unmodifiableMap(s);
  }

  private static void requireToken(String what, @Nullable String value) {
    Objects.requireNonNull(value, what);
    if (!TOKEN.matcher(value).matches()) {
      throw new IllegalArgumentException(what + " '" + value + "' must be 1-128 of letters, digits and ._:-");
    }
  }

  /** A builder; {@code pod}, {@code unit}, {@code spec} and {@code specVersion} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this view's values. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.pod = pod;
    b.unit = unit;
    b.index = index;
    b.instanceId = instanceId;
    b.hostname = hostname;
    b.spec = spec;
    b.specVersion = specVersion;
    b.privateIps.addAll(privateIps);
    b.publicIps.addAll(publicIps);
    units.forEach((k, v) -> b.units.put(k, new ArrayList<>(v)));
    secrets.forEach((k, v) -> b.secrets.put(k, new LinkedHashMap<>(v)));
    b.initialized = initialized;
    return b;
  }

  /**
   * Builds an {@link InstanceView}. Not thread-safe. Defaults: index 0, {@code instanceId}
   * {@code POD-UNIT-INDEX}, {@code hostname} {@code UNIT-INDEX}, no addresses, no peers, no secrets, not
   * initialized.
   */
  public static final class Builder {
    private @Nullable String pod;
    private @Nullable String unit;
    private int index;
    private @Nullable String instanceId;
    private @Nullable String hostname;
    private @Nullable Unit spec;
    private @Nullable String specVersion;
    private final List<String> privateIps = new ArrayList<>();
    private final List<String> publicIps = new ArrayList<>();
    private final Map<String, List<PeerInstance>> units = new LinkedHashMap<>();
    private final Map<String, Map<String, String>> secrets = new LinkedHashMap<>();
    private boolean initialized;

    private Builder() {}

    /** The pod's name. */
    public Builder pod(String pod) {
      this.pod = pod;
      return this;
    }

    /** The instance's unit name. */
    public Builder unit(String unit) {
      this.unit = unit;
      return this;
    }

    /** The instance's index in its unit. */
    public Builder index(int index) {
      this.index = index;
      return this;
    }

    /** The instance's stable identifier. */
    public Builder instanceId(String instanceId) {
      this.instanceId = instanceId;
      return this;
    }

    /** The guest's host name. */
    public Builder hostname(String hostname) {
      this.hostname = hostname;
      return this;
    }

    /** The unit whose blocks the instance runs, and its version. */
    public Builder spec(Unit spec, String specVersion) {
      this.spec = spec;
      this.specVersion = specVersion;
      return this;
    }

    /** Replaces the instance's private addresses. */
    public Builder privateIps(List<String> ips) {
      privateIps.clear();
      privateIps.addAll(ips);
      return this;
    }

    /** Replaces the instance's public addresses. */
    public Builder publicIps(List<String> ips) {
      publicIps.clear();
      publicIps.addAll(ips);
      return this;
    }

    /** Sets (replaces) the instances of a visible unit. */
    public Builder unitInstances(String unitName, List<PeerInstance> instances) {
      units.put(unitName, new ArrayList<>(instances));
      return this;
    }

    /** Removes a unit from the visible ones. */
    public Builder removeUnit(String unitName) {
      units.remove(unitName);
      return this;
    }

    /** Sets (replaces) a secret's fields. */
    public Builder secret(String name, Map<String, String> fields) {
      secrets.put(name, new LinkedHashMap<>(fields));
      return this;
    }

    /** Whether the instance already completed its initial phase. */
    public Builder initialized(boolean initialized) {
      this.initialized = initialized;
      return this;
    }

    /**
     * Builds the view.
     *
     * @throws IllegalStateException when a required value is missing
     */
    public InstanceView build() {
      if (pod == null || unit == null || spec == null || specVersion == null) {
        throw new IllegalStateException("pod, unit and spec are required");
      }
      String id = instanceId != null ? instanceId : pod + "-" + unit + "-" + index;
      String host = hostname != null ? hostname : unit + "-" + index;
      return new InstanceView(
          pod, unit, index, id, host, spec, specVersion, privateIps, publicIps, units, secrets, initialized);
    }
  }
}
