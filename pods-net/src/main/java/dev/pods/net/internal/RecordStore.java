package dev.pods.net.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pods.NetworkException;
import dev.pods.spi.NetworkSpec;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The instance records of a state folder: {@code instances/<id>/record.json} (spec and link indexes), written before
 * anything is built so that a crash leaves a record to reap by, and a {@code ready} marker written when the build
 * finished. Records are written atomically (temporary file and rename) but not fsynced: what they describe
 * (namespaces, links, processes) does not survive a reboot either.
 *
 * <p>Thread-safe (each call reads or writes whole files); callers serialise the changes of one instance.
 */
public final class RecordStore {
  private final Path instances;
  private final String prefix;
  private final String linkPrefix;

  /**
   * The records under {@code stateDir}, whose names derive from these prefixes.
   *
   * @throws IOException when the folder cannot be created
   */
  public RecordStore(Path stateDir, String prefix, String linkPrefix) throws IOException {
    this.instances = Files.createDirectories(stateDir.resolve("instances"));
    this.prefix = prefix;
    this.linkPrefix = linkPrefix;
  }

  /** The folder of all instances' state. */
  public Path instancesDir() {
    return instances;
  }

  /** The folder of one instance's state (record, marker, dnsmasq's files). */
  public Path dir(String id) {
    return instances.resolve(id);
  }

  /** Writes a new, not yet ready record for {@code spec} with these indexes and returns it. */
  public InstanceRecord create(NetworkSpec spec, long index, long vpcIndex) throws IOException {
    InstanceRecord r = new InstanceRecord(spec, Names.of(prefix, linkPrefix, spec.instanceId(), index, vpcIndex),
        index, vpcIndex, false);
    Files.createDirectories(dir(spec.instanceId()));
    write(r);
    return r;
  }

  /** Writes {@code r}'s record (not its marker). */
  public void write(InstanceRecord r) throws IOException {
    ObjectNode o = SpecJson.JSON.createObjectNode();
    o.put("index", r.index());
    o.put("vpcIndex", r.vpcIndex());
    o.set("spec", SpecJson.write(r.spec()));
    AtomicFiles.write(dir(r.id()).resolve("record.json"),
        SpecJson.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o), false);
  }

  /**
   * Marks a record complete. The marker is not fsynced: if a crash loses it, the network merely counts as
   * incomplete and is rebuilt.
   */
  public void markReady(String id) throws IOException {
    Files.write(dir(id).resolve("ready"), new byte[0]);
  }

  /** The record of {@code id}, or null when there is none. */
  public @Nullable InstanceRecord read(String id) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(dir(id).resolve("record.json"));
    } catch (NoSuchFileException e) {
      return null;
    }
    JsonNode o = SpecJson.JSON.readTree(bytes);
    NetworkSpec spec = SpecJson.read(o.path("spec"));
    long index = o.path("index").asLong();
    long vpcIndex = o.path("vpcIndex").asLong(-1);
    return new InstanceRecord(spec, Names.of(prefix, linkPrefix, id, index, vpcIndex), index, vpcIndex,
        Files.exists(dir(id).resolve("ready")));
  }

  /**
   * The record of {@code id}, or null.
   *
   * @throws NetworkException when it cannot be read
   */
  public @Nullable InstanceRecord readUnchecked(String id) {
    try {
      return read(id);
    } catch (IOException | IllegalArgumentException e) {
      throw new NetworkException("read network record of instance '" + id + "' failed", e);
    }
  }

  /** Every record. */
  public List<InstanceRecord> readAll() throws IOException {
    List<InstanceRecord> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(instances)) {
      for (Path p : ds) {
        InstanceRecord r = read(p.getFileName().toString());
        if (r != null) {
          out.add(r);
        }
      }
    }
    return out;
  }

  /**
   * Every record.
   *
   * @throws NetworkException when they cannot be read
   */
  public List<InstanceRecord> readAllUnchecked() {
    try {
      return readAll();
    } catch (IOException | IllegalArgumentException e) {
      throw new NetworkException("read network records in " + instances + " failed", e);
    }
  }

  /** Removes the instance's state: the record first (without it the instance no longer counts), then the rest. */
  public void delete(String id) throws IOException {
    Files.deleteIfExists(dir(id).resolve("record.json"));
    AtomicFiles.deleteTree(dir(id));
  }
}
