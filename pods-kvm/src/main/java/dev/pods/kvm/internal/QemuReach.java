package dev.pods.kvm.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether QEMU, which {@code qemu:///system} runs as an unprivileged account ({@code libvirt-qemu} on Debian), can
 * reach a data folder: every folder on the way must let that account search it. A folder made by
 * {@code mktemp -d} (mode 0700) does not, and the deploy would fail late with QEMU's "Permission denied" on the
 * disk; checking when the runtime starts turns that into a message that says what to change. Pure functions over
 * files given as arguments, so tests need no libvirt.
 */
public final class QemuReach {
  private QemuReach() {}

  /** The account QEMU runs as: its name, uid and every group it is in (primary and supplementary). */
  public record Account(String name, int uid, Set<Integer> gids) {
    /** Copies the set. */
    public Account {
      gids = Set.copyOf(gids);
    }
  }

  private static final Pattern USER = Pattern.compile("^\\s*user\\s*=\\s*\"([^\"]+)\"\\s*$", Pattern.MULTILINE);

  /**
   * The account of {@code qemu.conf}'s {@code user} setting (Debian's default {@code libvirt-qemu} when it is
   * commented out), looked up in {@code passwd} and {@code group}; empty when QEMU runs as root or the account
   * is unknown (nothing to check then).
   */
  public static Optional<Account> account(Path qemuConf, Path passwd, Path group) throws IOException {
    String name = "libvirt-qemu";
    if (Files.isReadable(qemuConf)) {
      Matcher m = USER.matcher(Files.readString(qemuConf));
      while (m.find()) {
        name = m.group(1); // the last setting wins, as in libvirt's own reading
      }
    }
    if (name.equals("root") || name.equals("+0")) {
      return Optional.empty();
    }
    Integer uid = null;
    Set<Integer> gids = new HashSet<>();
    for (String line : Files.readAllLines(passwd)) {
      String[] f = line.split(":", -1);
      if (f.length >= 4 && f[0].equals(name)) {
        uid = Integer.parseInt(f[2]);
        gids.add(Integer.parseInt(f[3]));
      }
    }
    if (uid == null) {
      return Optional.empty();
    }
    for (String line : Files.readAllLines(group)) {
      String[] f = line.split(":", -1);
      if (f.length >= 4 && List.of(f[3].split(",")).contains(name)) {
        gids.add(Integer.parseInt(f[2]));
      }
    }
    return Optional.of(new Account(name, uid, gids));
  }

  /**
   * The first existing folder from {@code /} down to {@code dir} that {@code a} may not search (enter), or empty
   * when it may reach {@code dir}. Folders that do not exist yet are skipped: the runtime creates them with the
   * default mode.
   */
  public static Optional<Path> blocked(Path dir, Account a) throws IOException {
    Path existing = dir.toAbsolutePath().normalize();
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return Optional.empty();
    }
    Path real = existing.toRealPath(); // links resolved: the folders QEMU really walks through
    Path p = real.getRoot();
    if (!searchable(p, a)) {
      return Optional.of(p);
    }
    for (Path part : real) {
      p = p.resolve(part);
      if (Files.isDirectory(p) && !searchable(p, a)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static boolean searchable(Path p, Account a) throws IOException {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
    int uid = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    int gid = (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    if (uid == a.uid()) {
      return perms.contains(PosixFilePermission.OWNER_EXECUTE);
    }
    if (a.gids().contains(gid)) {
      return perms.contains(PosixFilePermission.GROUP_EXECUTE);
    }
    return perms.contains(PosixFilePermission.OTHERS_EXECUTE);
  }
}
