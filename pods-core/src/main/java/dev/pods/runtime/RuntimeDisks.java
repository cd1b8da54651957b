package dev.pods.runtime;

import dev.pods.ConflictException;
import dev.pods.Disks;
import dev.pods.spi.DiskStore;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** {@link Disks} of a {@link DefaultPodRuntime}: its disk store, and its deployments for who uses what. */
final class RuntimeDisks implements Disks {
  private final DefaultPodRuntime runtime;
  private final @Nullable DiskStore store;

  RuntimeDisks(DefaultPodRuntime runtime, @Nullable DiskStore store) {
    this.runtime = runtime;
    this.store = store;
  }

  private Disk disk(DiskStore.Volume v, Map<String, String> used) {
    return new Disk(v.name(), v.sizeBytes(), v.allocatedBytes(), used.get(v.name()));
  }

  @Override
  public List<Disk> list() {
    if (store == null) {
      return List.of();
    }
    Map<String, String> used = runtime.disksInUse(null);
    return store.list().stream().map(v -> disk(v, used)).toList();
  }

  @Override
  public Optional<Disk> find(String name) {
    Objects.requireNonNull(name, "name");
    return store == null ? Optional.empty() : store.find(name).map(v -> disk(v, runtime.disksInUse(null)));
  }

  @Override
  public Disk create(String name, long sizeBytes) {
    if (store == null) {
      throw new IllegalStateException("the runtime has no disk store (PodRuntime.Builder.disks)");
    }
    return disk(store.create(name, sizeBytes), runtime.disksInUse(null));
  }

  @Override
  public void delete(String name) {
    Objects.requireNonNull(name, "name");
    if (store == null) {
      return;
    }
    // under the runtime's lock: no deploy claims the disk between the check and the deletion
    synchronized (runtime) {
      String user = runtime.disksInUse(null).get(name);
      if (user != null) {
        throw new ConflictException("disk " + name + " is in use by " + user + "; destroy or change that pod first");
      }
      store.delete(name);
    }
  }
}
