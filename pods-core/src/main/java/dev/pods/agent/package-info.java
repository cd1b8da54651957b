/**
 * The guest agent: a POSIX {@code sh} program ({@code pods-agent.sh}, shipped in this jar) that runs inside each
 * VM, and what the host needs to deliver it (the script's bytes and version, and the configuration file that
 * goes next to it on the NoCloud seed).
 *
 * <pre>{@code
 * byte[] agent = AgentScript.bytes();                    // write as /usr/local/lib/pods/pods-agent.sh
 * String conf = AgentConfig.forGuest(token).render();    // write as /etc/pods/agent.conf (mode 0600)
 * // the guest's init (or cloud-init runcmd and bootcmd alike) runs: sh pods-agent.sh run
 * }</pre>
 *
 * <p>What the agent does: it takes a per-boot lock (a second start exits at once), fetches its spec from the
 * metadata service, runs the phase blocks (first boot: all; later boot: {@code reboot} and {@code reload}),
 * streams their output, then long-polls for state changes and runs the {@code reload} blocks of the newest spec,
 * one reload at a time; in parallel it long-polls for exec requests. See {@link dev.pods.agent.AgentScript}.
 */
@NullMarked
package dev.pods.agent;

import org.jspecify.annotations.NullMarked;
