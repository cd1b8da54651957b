/**
 * Service provider interfaces: the small, synchronous, idempotent contracts that backends implement, and the
 * value types they exchange. The model ({@code Pod}, {@code Unit}) never appears here; the runtime maps it onto
 * these types.
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
 */
@NullMarked
package dev.pods.spi;

import org.jspecify.annotations.NullMarked;
