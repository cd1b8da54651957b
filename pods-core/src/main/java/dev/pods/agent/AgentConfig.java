package dev.pods.agent;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The agent's configuration file ({@code /etc/pods/agent.conf} on the seed, or any file named by
 * {@code PODS_AGENT_CONF}): {@code key=value} lines. Immutable; {@link #render()} gives the file's text.
 *
 * <p>Every key can also be given as an environment variable {@code PODS_KEY} (upper case), which wins over the
 * file; tests use that to point an agent at a loopback IMDS and at temporary directories.
 *
 * @param url the metadata service's base URL, without {@code /v1}
 * @param token the instance's token
 * @param stateDir where the agent keeps what must survive a reboot (the "initialized" marker); on a tmpfs-only
 *     guest the agent asks the IMDS instead
 * @param runDir per-boot state: the lock, the carried environment, the block files (tmpfs in a real guest)
 * @param binDir where {@code pods} and {@code pci} are installed
 * @param workdir the working directory of the first block
 * @param shell the command that runs the agent itself again (for {@code pods get}), e.g. {@code /bin/sh}
 * @param python the python interpreter for python blocks
 * @param http {@code wget} or {@code curl}, or {@code null} to pick whichever the guest has (wget first)
 * @param pollWait how long one long poll waits at most (also the heartbeat interval)
 */
public record AgentConfig(
    URI url,
    String token,
    String stateDir,
    String runDir,
    String binDir,
    String workdir,
    String shell,
    String python,
    @Nullable String http,
    Duration pollWait) {

  /** Validates. */
  public AgentConfig {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(token, "token");
    for (String v : new String[] {url.toString(), token, stateDir, runDir, binDir, workdir, shell, python}) {
      if (v.indexOf('\n') >= 0 || v.indexOf('\t') >= 0) {
        throw new IllegalArgumentException("configuration values hold no line breaks or tabs: '" + v + "'");
      }
    }
    if (http != null && !http.equals("wget") && !http.equals("curl")) {
      throw new IllegalArgumentException("http is wget or curl, not '" + http + "'");
    }
    if (pollWait.compareTo(Duration.ofSeconds(1)) < 0 || pollWait.compareTo(Duration.ofSeconds(60)) > 0) {
      throw new IllegalArgumentException("pollWait is 1 to 60 seconds, not " + pollWait);
    }
  }

  /** The configuration of a real guest: the IMDS at 169.254.169.254, standard directories. */
  public static AgentConfig forGuest(String token) {
    return new AgentConfig(
        URI.create("http://169.254.169.254"), token, "/var/lib/pods-agent", "/run/pods-agent", "/usr/local/bin",
        "/", "/bin/sh", "python3", null, Duration.ofSeconds(20));
  }

  /** This configuration with another {@link #pollWait}. */
  public AgentConfig withPollWait(Duration wait) {
    return new AgentConfig(url, token, stateDir, runDir, binDir, workdir, shell, python, http, wait);
  }

  /** The {@code key=value} pairs, in file order. */
  public Map<String, String> entries() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("url", url.toString());
    m.put("token", token);
    m.put("state_dir", stateDir);
    m.put("run_dir", runDir);
    m.put("bin_dir", binDir);
    m.put("workdir", workdir);
    m.put("shell", shell);
    m.put("python", python);
    if (http != null) {
      m.put("http", http);
    }
    m.put("poll_wait", Long.toString(pollWait.toSeconds()));
    return m;
  }

  /** The same settings as environment variables ({@code PODS_URL}, ...), for a process started directly. */
  public Map<String, String> environment() {
    Map<String, String> m = new LinkedHashMap<>();
    entries().forEach((k, v) -> m.put("PODS_" + k.toUpperCase(java.util.Locale.ROOT), v));
    return m;
  }

  /** The file's text. */
  public String render() {
    StringBuilder b = new StringBuilder("# pods agent configuration\n");
    entries().forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
    return b.toString();
  }
}
