package dev.pods.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The guest agent program, {@code pods-agent.sh}, as shipped in this jar.
 *
 * <p>One POSIX {@code sh} file that runs under busybox {@code ash}, {@code dash} and {@code bash}, and needs
 * only {@code wget} or {@code curl}, {@code sed}, {@code awk}, {@code base64}, {@code setsid}, {@code mkfifo} and
 * {@code timeout} (busybox has them all), plus {@code python3} for python blocks. Its commands:
 * {@code run} (the agent), {@code get +/kind/name/selector} (what scripts call as {@code pods get} or, for
 * Pritunl Cloud scripts, {@code pci get}) and {@code version}.
 *
 * <p>How blocks run: each shell block ({@code sh}, {@code bash}, {@code shell}) is a fresh process
 * {@code INTERPRETER -e} in its own process group, started with an empty environment that it then loads from
 * the carried state; python blocks run in one {@code python3} interpreter per agent run (globals persist),
 * which has an injected {@code export(name, value)}. Between blocks, the exported environment travels as a
 * file of {@code export NAME='value'} lines, in which only {@code '} is escaped (as {@code '\''}), so spaces,
 * quotes, newlines and non-ASCII bytes survive byte for byte; shell blocks write it from {@code awk}'s
 * {@code ENVIRON} on success (an {@code EXIT} trap), python blocks from {@code os.environb}; both read it back
 * before the next block. The working directory travels the same way. Each block has a timeout (its own, or the
 * server's default); at the timeout its whole process group is killed and the block fails with exit code 124.
 *
 * <p>Stateless and thread-safe; the script text is read once.
 */
public final class AgentScript {
  /** The classpath resource holding the program. */
  public static final String RESOURCE = "/dev/pods/agent/pods-agent.sh";

  private static final byte[] BYTES = load();
  private static final String SHA256 = sha256(BYTES);

  private AgentScript() {}

  private static byte[] load() {
    try (InputStream in = AgentScript.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource " + RESOURCE + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** A copy of the program's bytes. */
  public static byte[] bytes() {
    return BYTES.clone();
  }

  /** The program's text. */
  public static String text() {
    return new String(BYTES, StandardCharsets.UTF_8);
  }

  /** The SHA-256 of the program, 64 hex digits: which agent a guest runs. */
  public static String sha256() {
    return SHA256;
  }

  /**
   * Writes the program to a file (atomically, through a temporary file next to it), executable by its owner.
   *
   * @throws UncheckedIOException when it cannot be written
   */
  public static Path writeTo(Path file) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      Path tmp = Files.createTempFile(dir, ".pods-agent", ".tmp");
      Files.write(tmp, BYTES);
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system (the seed image builder copies the bytes, not the mode)
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("write the agent to " + file + " failed", e);
    }
  }
}
