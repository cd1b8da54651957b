package dev.pods.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** Late writes for tests: a request's first attempt held back (reported lost) and sent to etcd when the test says. */
final class EtcdLateWrites {
  private EtcdLateWrites() {}

  /** Holds back the first attempt of the next request named {@code what}; sends it when asked. */
  static final class HoldFirst implements EtcdKeyspace.Sender {
    private @Nullable String armed;
    private @Nullable Supplier<? extends CompletableFuture<?>> held;

    synchronized void holdNext(String what) {
      armed = what;
    }

    @Override
    public <T> CompletableFuture<T> send(String what, int attempt, Supplier<CompletableFuture<T>> request) {
      synchronized (this) {
        if (what.equals(armed) && attempt == 0) {
          armed = null;
          held = request;
          return CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("answer lost (test)")
              .asRuntimeException());
        }
      }
      return request.get();
    }

    /** Sends the held request now and returns etcd's answer. */
    Object sendHeld() throws Exception {
      Supplier<? extends CompletableFuture<?>> h;
      synchronized (this) {
        h = held;
      }
      assertThat(h).as("a held request").isNotNull();
      return h.get().get(10, TimeUnit.SECONDS);
    }
  }
}
