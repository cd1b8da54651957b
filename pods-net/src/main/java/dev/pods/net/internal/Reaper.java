package dev.pods.net.internal;

import dev.pods.NetworkException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds what an owner has on this host and removes it through the driver: every network whose record names the
 * owner, instance state folders left without a record (a crash between removing the record and the rest), and
 * namespaces of the driver's prefix without a record here that carry the owner's mark ({@link OwnerMarks}); a
 * namespace with another mark or none (another state folder's, or not made by pods) is left alone with a warning.
 *
 * <p>Thread-safe; blocks for as long as the removals take.
 */
public final class Reaper {
  private static final Logger LOG = LoggerFactory.getLogger(Reaper.class);

  /** What the reaper needs of the driver. */
  public interface Driver {
    /** Removes the instance's network (the driver's delete, under the instance's lock). */
    void delete(String instanceId);

    /** Runs {@code work} under the instance's lock. */
    void underLock(String instanceId, String op, Work work);
  }

  /** Work done under an instance's lock. */
  @FunctionalInterface
  public interface Work {
    /** Does it. */
    void run() throws Exception;
  }

  private final String prefix;
  private final RecordStore records;
  private final OwnerMarks marks;

  /** Reaps the networks of {@code records} and the namespaces named {@code <prefix>-*}. */
  public Reaper(String prefix, RecordStore records, OwnerMarks marks) {
    this.prefix = prefix;
    this.records = records;
    this.marks = marks;
  }

  /**
   * Removes what {@code owner} has here.
   *
   * @return the ids of the instances whose networks were removed
   * @throws NetworkException when the state folder or {@code /run/netns} cannot be listed, or a removal fails
   */
  public List<String> reap(String owner, Driver driver) {
    List<String> removed = new ArrayList<>();
    for (InstanceRecord r : records.readAllUnchecked()) {
      if (r.spec().owner().equals(owner)) {
        driver.delete(r.id());
        removed.add(r.id());
      }
    }
    // state folders without a record: a crash between removing the record and the rest of its files
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(records.instancesDir())) {
      for (Path p : ds) {
        String id = p.getFileName().toString();
        if (!Files.exists(p.resolve("record.json")) && !Netns.exists(Names.namespace(prefix, id))) {
          driver.underLock(id, "reap", () -> {
            if (!Files.exists(p.resolve("record.json"))) {
              AtomicFiles.deleteTree(p);
            }
          });
        }
      }
    } catch (IOException e) {
      throw new NetworkException("reap networks of '" + owner + "' failed listing " + records.instancesDir(), e);
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(Netns.RUN_NETNS, prefix + "-*")) {
      for (Path p : ds) {
        String ns = p.getFileName().toString();
        String id = ns.substring(prefix.length() + 1);
        if (Files.exists(records.dir(id).resolve("record.json"))) {
          continue;
        }
        String mark = marks.markOf(ns);
        if (OwnerMarks.of(owner).equals(mark)) {
          LOG.warn("removing namespace {} of owner {}, which has no record", ns, owner);
          driver.delete(id);
          removed.add(id);
        } else {
          LOG.warn("leaving namespace {} alone: no record in {} and {}", ns, records.instancesDir(),
              mark == null ? "no owner mark" : "another owner's mark");
        }
      }
    } catch (NoSuchFileException e) {
      // no namespace at all
    } catch (IOException e) {
      throw new NetworkException("reap networks of '" + owner + "' failed listing " + Netns.RUN_NETNS, e);
    }
    return removed;
  }
}
