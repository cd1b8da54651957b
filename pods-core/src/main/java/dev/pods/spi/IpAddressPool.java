package dev.pods.spi;

import java.util.Map;
import java.util.Optional;

/**
 * Address management: hands out the blocks of an {@link IpPoolSpec} to named holders (an instance id, say), never
 * one block to two holders at a time. Allocation is keyed by holder and idempotent: asking again for a holder returns
 * the block it already has, so a crash between allocating and using an address neither leaks it to another holder
 * nor loses it; a holder that is no longer wanted is released by whoever reconciles ({@link #allocations()} lists
 * them). Freed blocks are reused last (allocation moves round the range), so a released address is not handed out
 * again while its ARP entries may still be fresh.
 *
 * <p>Implementations are thread-safe; persistent ones are also safe across processes sharing the state directory,
 * and a returned allocation is durable. Calls block briefly on a lock and on storage.
 *
 * @since 0.1
 */
public interface IpAddressPool {

  /** The pool's spec. */
  IpPoolSpec spec();

  /**
   * The holder's block, allocating a free one if it has none.
   *
   * @throws dev.pods.NetworkException when the pool is exhausted or its storage fails
   */
  Cidr allocate(String holder);

  /** The holder's block, if it has one. */
  Optional<Cidr> lookup(String holder);

  /**
   * Frees the holder's block. Idempotent.
   *
   * @return whether the holder had a block
   */
  boolean release(String holder);

  /** A snapshot of every holder and its block. */
  Map<String, Cidr> allocations();
}
