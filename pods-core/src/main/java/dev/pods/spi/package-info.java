/**
 * Service provider interfaces: the small, synchronous, idempotent seams between the engine and the host.
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
