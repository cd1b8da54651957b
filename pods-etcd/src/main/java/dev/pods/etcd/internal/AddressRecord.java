package dev.pods.etcd.internal;

import java.util.Objects;

/**
 * Where the private address of an instance is held in the cluster's shared pool
 * ({@code PREFIX/cluster/addresses/POD/UNIT-INDEX}, no lease): written by the first node that runs the instance, read
 * by the placement leader, which releases the address once the instance is no longer desired and no live node lists
 * it. Immutable.
 *
 * @param pool the name of the pool ({@code PREFIX/pools/NAME/})
 * @param holder the holder the nodes allocate it for (the local runtime's instance id, the same on every node)
 */
public record AddressRecord(String pool, String holder) {
  /** Validates. */
  public AddressRecord {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(holder, "holder");
  }
}
