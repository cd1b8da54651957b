package dev.pods.etcd;

import dev.pods.NetworkException;
import dev.pods.PodsException;
import dev.pods.spi.Cidr;
import dev.pods.spi.IpAddressPool;
import dev.pods.spi.IpPoolSpec;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * An {@link IpAddressPool} in etcd, shared by every client of the cluster that opens a pool of the same name under
 * the same prefix: a claim is one etcd transaction that succeeds only if neither the holder nor the block is taken,
 * so no block is ever handed to two holders, whichever host or process asks. Keys, under {@code PREFIX/pools/NAME/}:
 * {@code spec} (the pool's range, block size and reserved networks), {@code holder/H} (H's block number),
 * {@code block/N} (the holder of block N) and {@code cursor} (the block handed out last, so freed blocks are reused
 * last, as in the other pools).
 *
 * <p>Costs: {@link #allocate} is two etcd requests for a new holder (a read, then the claim; a claim that lost a
 * race returns the fresh state, so each retry is one more request) and one for a holder that has a block;
 * {@link #release} two (one when the holder has no block); {@link #lookup} and {@link #allocations} one. An
 * allocation reads the keys of every allocated block of the pool, so its cost grows with the number of
 * allocations.
 *
 * <p>Thread-safe and blocking: each request is bounded by the keyspace's timeout; a failure is a
 * {@link NetworkException} naming the pool and holder. A returned allocation is committed by a quorum of members.
 * Nothing to close (the caller closes the client).
 *
 * @since 0.1
 */
public final class EtcdIpAddressPool implements IpAddressPool {
  /** Claims that lose a race are retried; a pool this contended is reported rather than spun on. */
  private static final int MAX_ATTEMPTS = 1000;

  private final EtcdKeyspace space;
  private final IpPoolSpec spec;

  /**
   * The pool {@code spec.name()} under {@code space}, recording its spec in etcd when it is new.
   *
   * @throws NetworkException when a pool of that name exists there with another spec (naming both), or etcd fails
   */
  public EtcdIpAddressPool(EtcdKeyspace space, IpPoolSpec spec) {
    this.space = Objects.requireNonNull(space, "space");
    this.spec = Objects.requireNonNull(spec, "spec");
    ByteSequence specKey = key("spec");
    ByteSequence mine = bytes(describe(spec));
    TxnResponse r = call("recording the spec", () -> space.kv().txn()
        .If(new Cmp(specKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
        .Then(Op.put(specKey, mine, PutOption.DEFAULT))
        .Else(Op.get(specKey, GetOption.DEFAULT))
        .commit());
    if (!r.isSucceeded()) {
      String theirs = r.getGetResponses().get(0).getKvs().get(0).getValue().toString(StandardCharsets.UTF_8);
      if (!theirs.equals(describe(spec))) {
        throw new NetworkException("pool '" + spec.name() + "' under " + space.prefix() + " in etcd has spec "
            + theirs + ", not " + describe(spec) + ": give this pool another name");
      }
    }
  }

  @Override
  public IpPoolSpec spec() {
    return spec;
  }

  @Override
  public Cidr allocate(String holder) {
    Objects.requireNonNull(holder, "holder");
    ByteSequence holderKey = key("holder/" + holder);
    ByteSequence cursorKey = key("cursor");
    ByteSequence blocks = key("block/");
    Op[] read = {
        Op.get(holderKey, GetOption.DEFAULT),
        Op.get(cursorKey, GetOption.DEFAULT),
        Op.get(blocks, GetOption.builder().isPrefix(true).withKeysOnly(true).build())};
    TxnResponse state = call("reading for '" + holder + "'", () -> space.kv().txn().Then(read).commit());
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      GetResponse mine = state.getGetResponses().get(0);
      if (!mine.getKvs().isEmpty()) {
        return spec.block(Long.parseLong(text(mine.getKvs().get(0).getValue())));
      }
      GetResponse cursorValue = state.getGetResponses().get(1);
      long cursor = cursorValue.getKvs().isEmpty() ? -1 : Long.parseLong(text(cursorValue.getKvs().get(0).getValue()));
      Set<Long> used = new HashSet<>();
      String blockPrefix = space.prefix() + "/pools/" + spec.name() + "/block/";
      for (KeyValue kv : state.getGetResponses().get(2).getKvs()) {
        used.add(Long.parseLong(text(kv.getKey()).substring(blockPrefix.length())));
      }
      long candidate = next(cursor, used);
      if (candidate < 0) {
        throw new NetworkException("allocate from pool '" + spec.name() + "' for '" + holder + "' failed: "
            + spec.range() + " is exhausted (" + used.size() + " blocks in use)");
      }
      ByteSequence blockKey = key("block/" + candidate);
      ByteSequence index = bytes(Long.toString(candidate));
      state = call("claiming " + spec.block(candidate) + " for '" + holder + "'", () -> space.kv().txn()
          .If(new Cmp(holderKey, Cmp.Op.EQUAL, CmpTarget.version(0)),
              new Cmp(blockKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
          .Then(Op.put(holderKey, index, PutOption.DEFAULT),
              Op.put(blockKey, bytes(holder), PutOption.DEFAULT),
              Op.put(cursorKey, index, PutOption.DEFAULT))
          .Else(read)
          .commit());
      if (state.isSucceeded()) {
        return spec.block(candidate);
      }
    }
    throw new NetworkException("allocate from pool '" + spec.name() + "' for '" + holder + "' failed: "
        + MAX_ATTEMPTS + " claims in a row lost a race with other clients");
  }

  @Override
  public Optional<Cidr> lookup(String holder) {
    Objects.requireNonNull(holder, "holder");
    GetResponse r = call("looking up '" + holder + "'", () -> space.kv().get(key("holder/" + holder)));
    return r.getKvs().isEmpty() ? Optional.empty()
        : Optional.of(spec.block(Long.parseLong(text(r.getKvs().get(0).getValue()))));
  }

  @Override
  public boolean release(String holder) {
    Objects.requireNonNull(holder, "holder");
    ByteSequence holderKey = key("holder/" + holder);
    GetResponse r = call("looking up '" + holder + "'", () -> space.kv().get(holderKey));
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (r.getKvs().isEmpty()) {
        return false;
      }
      KeyValue have = r.getKvs().get(0);
      ByteSequence blockKey = key("block/" + text(have.getValue()));
      TxnResponse t = call("releasing '" + holder + "'", () -> space.kv().txn()
          .If(new Cmp(holderKey, Cmp.Op.EQUAL, CmpTarget.modRevision(have.getModRevision())))
          .Then(Op.delete(holderKey, DeleteOption.DEFAULT), Op.delete(blockKey, DeleteOption.DEFAULT))
          .Else(Op.get(holderKey, GetOption.DEFAULT))
          .commit());
      if (t.isSucceeded()) {
        return true;
      }
      r = t.getGetResponses().get(0);
    }
    throw new NetworkException("release from pool '" + spec.name() + "' of '" + holder + "' failed: "
        + MAX_ATTEMPTS + " attempts in a row lost a race with other clients");
  }

  @Override
  public Map<String, Cidr> allocations() {
    ByteSequence dir = key("holder/");
    GetResponse r = call("listing holders",
        () -> space.kv().get(dir, GetOption.builder().isPrefix(true).build()));
    int skip = text(dir).length();
    Map<String, Cidr> out = new TreeMap<>();
    for (KeyValue kv : r.getKvs()) {
      out.put(text(kv.getKey()).substring(skip), spec.block(Long.parseLong(text(kv.getValue()))));
    }
    return out;
  }

  /** The first usable free block after {@code cursor}, wrapping round; -1 when there is none. */
  private long next(long cursor, Set<Long> used) {
    long n = spec.blockCount();
    for (long i = 1; i <= n; i++) {
      long candidate = Math.floorMod(cursor + i, n);
      if (!used.contains(candidate) && spec.usable(candidate)) {
        return candidate;
      }
    }
    return -1;
  }

  private <T> T call(String what, Supplier<CompletableFuture<T>> request) {
    try {
      return space.call("pool '" + spec.name() + "': " + what, request);
    } catch (PodsException e) {
      throw new NetworkException(e.getMessage(), e.getCause());
    }
  }

  private ByteSequence key(String relative) {
    return space.key("pools/" + spec.name() + "/" + relative);
  }

  private static String describe(IpPoolSpec s) {
    return "range " + s.range() + ", blocks /" + s.blockPrefixLength() + ", reserved " + s.reserved();
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static String text(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }
}
