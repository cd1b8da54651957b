/**
 * Service provider interfaces: the small, synchronous, idempotent seams between the engine and the host, and
 * the value types they exchange. The model ({@code Pod}, {@code Unit}) never appears here; the runtime maps it
 * onto these types.
 *
 * <p>The hypervisor part is {@link dev.pods.spi.Hypervisor} with {@link dev.pods.spi.DomainSpec} and friends:
 *
 * <pre>{@code
 * DomainSpec spec = DomainSpec.builder("podst-1-web-0")
 *     .metadata(new DomainMetadata("session-uuid", "shop", "web", 0, "sha256:..."))
 *     .memoryMib(256).vcpus(1)
 *     .boot(DomainBoot.kernel(kernel, initrd, "console=ttyS0"))
 *     .seedIso(seed).serialLog(log)
 *     .build();
 * try (Hypervisor hv = provider.create()) {
 *   hv.define(spec);
 *   hv.start(spec.name());
 *   hv.stop(spec.name(), Duration.ofSeconds(10));
 *   hv.undefine(spec.name());
 * }
 * }</pre>
 *
 * <p>The networking part is {@link dev.pods.spi.NetworkDriver} with its value types ({@link dev.pods.spi.NetworkSpec},
 * {@link dev.pods.spi.Cidr}, {@link dev.pods.spi.FirewallRuleSpec}, ...) and address management
 * ({@link dev.pods.spi.IpAddressPool}):
 *
 * <pre>{@code
 * IpAddressPool publics = driver.pool(IpPoolSpec.addresses("public", Cidr.parse("10.99.0.0/16"), gateway));
 * NetworkSpec spec = NetworkSpec.builder()
 *     .instanceId("web-0").owner("dev.pods/session=" + session)
 *     .mac("52:54:00:12:34:56").subnet(Cidr.parse("10.98.1.0/30"))
 *     .uplink(new NetworkUplink("br-public", publics.allocate("web-0").network(), 16, gateway))
 *     .firewall(NetworkFirewall.rules(FirewallRuleSpec.tcp(443, Cidr.parse("0.0.0.0/0"))))
 *     .build();
 * NetworkInstance net = driver.create(spec);   // then attach the VM to net.tap()
 * }</pre>
 */
@NullMarked
package dev.pods.spi;

import org.jspecify.annotations.NullMarked;
