package dev.pods;

import java.util.List;
import java.util.Objects;

/**
 * Where a YAML resource fence stands in a unit's document, and which resources it declares (by name, in
 * order). The resources themselves are the unit's fields ({@link Unit#firewalls()} and so on); this block only
 * records the layout, so that rendering puts each resource back where the author wrote it.
 *
 * <p>{@link Unit.Builder#build()} keeps resource blocks consistent: names of resources that no longer exist
 * are dropped, resources that no block names are added to the first block (one is created at the top when
 * there is none), and blocks left empty are removed.
 *
 * @param names the names of the resources declared in this fence, in order; the instance resource is named
 *     after the unit
 */
public record ResourceBlock(List<String> names) implements Block {
  /** Copies the list. */
  public ResourceBlock {
    names = List.copyOf(Objects.requireNonNull(names, "names"));
  }
}
