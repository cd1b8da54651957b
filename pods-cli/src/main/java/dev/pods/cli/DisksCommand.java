package dev.pods.cli;

import picocli.CommandLine.Command;

/** {@code pods disks}: the named persistent disks of the data folder: size, room taken, the domain using each. */
@Command(name = "disks", description = "the named persistent disks of the data folder: size, room taken, user")
final class DisksCommand extends PodsCommand {
  @Override
  public Integer call() {
    return DiskList.print(out(), err(), dataDir());
  }
}
