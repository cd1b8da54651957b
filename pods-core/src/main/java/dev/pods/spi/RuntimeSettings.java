package dev.pods.spi;

import dev.pods.ImagePolicy;
import dev.pods.ImageResolver;
import dev.pods.PodRuntime;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * What {@link PodRuntime.Builder} collected, handed to the {@link PodRuntimeProvider} that starts the runtime; host
 * applications do not make one. {@code executor} is {@code null} when the runtime makes and owns its own;
 * {@code owned} are the parts a local builder made, closed by the runtime after its own threads; {@code domains} the
 * registered DNS domains by name; {@code membership} is null for a runtime that runs every instance of its
 * pods (one host). An immutable value (its lists and map are the builder's copies).
 *
 * @since 0.1
 */
public record RuntimeSettings(
    Hypervisor hypervisor,
    NetworkDriver networkDriver,
    InstanceFiles instanceFiles,
    ImageResolver images,
    ImagePolicy imagePolicy,
    Path stateDir,
    Cidr privateRange,
    PodRuntime.@Nullable PublicNetwork publicNetwork,
    List<Inet4Address> dnsServers,
    @Nullable String hostNamespace,
    String owner,
    String namePrefix,
    InetSocketAddress metadataAddress,
    @Nullable Executor executor,
    Clock clock,
    List<AutoCloseable> owned,
    @Nullable StateStore stateStore,
    @Nullable Inet4Address nodeAddress,
    Map<String, PodRuntime.DnsDomain> domains,
    SecretStore secrets,
    @Nullable DiskStore disks,
    List<Path> hostFolders,
    @Nullable PodMembership membership) {}
