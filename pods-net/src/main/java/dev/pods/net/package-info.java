/**
 * The Linux {@link dev.pods.spi.NetworkDriver}: one network namespace per instance, built with iproute2, nftables
 * and dnsmasq, plus persistent address pools.
 *
 * <pre>{@code
 * try (LinuxNetworkDriver driver = LinuxNetworkDriver.builder()
 *         .stateDir(Path.of("/var/lib/pods/net"))
 *         .prefix("pods")
 *         .build()) {
 *   NetworkInstance net = driver.create(spec);          // about 30 ms
 *   ServerSocket imds = driver.bindInNamespace(spec.instanceId(), new InetSocketAddress("169.254.169.254", 80));
 * }
 * }</pre>
 */
@NullMarked
package dev.pods.net;

import org.jspecify.annotations.NullMarked;
