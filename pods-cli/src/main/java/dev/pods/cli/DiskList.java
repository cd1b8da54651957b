package dev.pods.cli;

import dev.pods.kvm.DiskImages;
import dev.pods.kvm.KvmDiskStore;
import dev.pods.kvm.LibvirtHypervisor;
import dev.pods.spi.DiskStore;
import dev.pods.spi.DomainDisk;
import dev.pods.spi.DomainInfo;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code pods disks}: the named persistent disks of the data folder ({@code <data>/data/<name>.qcow2}) with their
 * size, the room they take on the host, and the domain that has each attached (from libvirt, so whichever
 * {@code pods up} process or runtime made it). Stateless.
 */
final class DiskList {
  private DiskList() {}

  /** Prints the table; returns the exit status. */
  static int print(PrintStream out, PrintStream err, Path dataDir) {
    List<DiskStore.Volume> volumes = KvmDiskStore.on(DiskImages.at(dataDir)).list();
    Map<Path, String> users = new HashMap<>();
    try (LibvirtHypervisor hv = LibvirtHypervisor.connect(LibvirtHypervisor.configuredUri())) {
      for (DomainInfo d : hv.listAll()) {
        for (DomainDisk disk : d.spec().disks()) {
          String who = d.spec().metadata().pod() + "/" + d.spec().metadata().unit() + "-" + d.spec().metadata().index();
          users.put(disk.path().toAbsolutePath().normalize(), who + " (domain " + d.name() + ")");
        }
      }
    } catch (RuntimeException e) {
      err.println("pods: cannot ask libvirt which domains use the disks: " + e.getMessage());
    }
    out.print(table(volumes, users));
    return 0;
  }

  /** The table: a header, then one line per volume; {@code users} maps image paths to who uses them. */
  static String table(List<DiskStore.Volume> volumes, Map<Path, String> users) {
    StringBuilder b = new StringBuilder(String.format("%-32s %10s %10s  %s%n", "NAME", "SIZE", "ALLOCATED", "USED BY"));
    for (DiskStore.Volume v : volumes) {
      String user = users.getOrDefault(v.path().toAbsolutePath().normalize(), "-");
      b.append(String.format("%-32s %10s %10s  %s%n", v.name(), size(v.sizeBytes()), size(v.allocatedBytes()), user));
    }
    return b.toString();
  }

  /** Bytes in the largest binary unit that keeps one digit before the point: {@code 10.0G}, {@code 196K}. */
  static String size(long bytes) {
    String[] units = {"B", "K", "M", "G", "T"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + "B" : String.format(Locale.ROOT, v >= 100 ? "%.0f%s" : "%.1f%s", v, units[u]);
  }
}
