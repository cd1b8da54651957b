package dev.pods;

/**
 * One part of a unit's document, in order: prose (documentation), a resource block (the YAML fence that
 * declares resources) or a script. A template is a sequence of blocks, and so is a unit built in code; the
 * order is what rendering to Markdown reproduces.
 *
 * <p>All implementations are immutable values.
 */
public sealed interface Block permits Prose, ResourceBlock, Script {}
