package dev.pods.phase;

import dev.pods.Script;
import dev.pods.Trigger;
import dev.pods.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The phase rules the guest agent applies, stated once for the host: which trigger a boot is, and which blocks
 * a trigger runs. Stateless and thread-safe.
 */
public final class PhaseRules {
  private PhaseRules() {}

  /**
   * The trigger of a boot: {@link Trigger#REBOOT} when the guest's disk holds the "initialized" marker or the
   * host says the instance completed its initial phase (a guest without persistent state asks the IMDS), else
   * {@link Trigger#FIRST_BOOT}. A failed initial phase writes no marker, so it runs again at the next boot.
   */
  public static Trigger bootTrigger(boolean markerOnDisk, boolean initializedOnHost) {
    return markerOnDisk || initializedOnHost ? Trigger.REBOOT : Trigger.FIRST_BOOT;
  }

  /**
   * The indexes (in {@link Unit#scripts()}) of the blocks a trigger runs, in document order: all at first boot,
   * {@code reboot} and {@code reload} at a later boot, {@code reload} at a cluster change.
   */
  public static List<Integer> blocks(Unit unit, Trigger trigger) {
    Objects.requireNonNull(trigger, "trigger");
    List<Script> scripts = unit.scripts();
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < scripts.size(); i++) {
      if (scripts.get(i).phase().runsOn(trigger)) {
        out.add(i);
      }
    }
    return List.copyOf(out);
  }
}
