package dev.pods.imds;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The metadata-service protocol, version 1: what the guest agent ({@code pods-agent.sh}) and the
 * {@link ImdsServer} say to each other. Plain HTTP/1.1; every path starts with {@link #PREFIX} ({@code /v1}), so a
 * later version can live beside this one. The machine-checkable description of every response body is the
 * resource {@link #SCHEMA_RESOURCE} (JSON Schema for the JSON bodies, a whole-body regular expression for the
 * line formats); the tests check the server's answers against it.
 *
 * <h2>Authentication</h2>
 * Every request carries the instance's token in the header {@value #TOKEN_HEADER} (the token travels on the
 * NoCloud seed). A missing or wrong token gets {@code 401}; a request with an {@code Origin} or {@code Referer}
 * header gets {@code 403} (no browser or SSRF-style call is a legitimate client). The listener is bound inside
 * the instance's own network namespace, so the namespace is the identity and the token a second check.
 *
 * <h2>Formats</h2>
 * Agent-facing bodies are lines that a POSIX shell can read with {@code read} and {@code sed}: {@code key value}
 * records, with free text base64-encoded on one line. Meta-data and errors are JSON. Error bodies are
 * {@code {"status": N, "error": "text"}}.
 *
 * <h2>Endpoints</h2>
 * <table>
 *   <caption>Protocol version 1</caption>
 *   <tr><th>request</th><th>answer</th></tr>
 *   <tr><td>{@code GET /v1/spec}</td><td>200 text: {@code pods-spec 1}, {@code instance ID}, {@code version V},
 *       {@code hash H}, {@code initialized 0|1}, then one {@code block INDEX LANGUAGE PHASE TIMEOUT_S BASE64}
 *       line per script block in document order, one {@code mount disk SERIAL BASE64_PATH} line per persistent
 *       disk mount (the agent mounts the virtio disk of that serial at the path before the phase's blocks run,
 *       after formatting it ext4 when it is blank), one {@code mount host TAG BASE64_PATH ro|rw} line per host
 *       folder (the agent mounts the virtiofs share of that tag at the path), one
 *       {@code journal KEY systemd|file BASE64_UNIT_OR_PATH} line per journal input (the agent follows it), then
 *       {@code end}. The hash is the {@link StateHash} that
 *       this spec belongs to; {@code initialized 1} tells a guest without persistent state that this boot is not
 *       the first.</td></tr>
 *   <tr><td>{@code GET /v1/state?hash=H&wait=S}</td><td>200 text {@code hash H2}: at once when the current
 *       hash differs from {@code H} (or {@code H} is absent), else as soon as it changes, at the latest after
 *       {@code S} seconds (at most {@link #MAX_WAIT_SECONDS}) with the unchanged hash. Counts as a heartbeat.
 *       </td></tr>
 *   <tr><td>{@code POST /v1/status?status=S}</td><td>204. {@code S} is an {@link AgentStatus} word.</td></tr>
 *   <tr><td>{@code POST /v1/runs/RUN/start?trigger=T&version=V&hash=H&blocks=0,2}</td><td>204. {@code T} is
 *       {@code first_boot}, {@code reboot} or {@code cluster_change}.</td></tr>
 *   <tr><td>{@code POST /v1/runs/RUN/blocks/I/start}</td><td>204</td></tr>
 *   <tr><td>{@code POST /v1/runs/RUN/blocks/I/output?stream=stdout|stderr&offset=N}</td><td>204. The body is
 *       the raw bytes of the stream from byte {@code N} on; the server splits lines, keeps a partial last line
 *       until its newline (or the block's end) and ignores bytes it already has, so a resent chunk is
 *       harmless.</td></tr>
 *   <tr><td>{@code POST /v1/runs/RUN/blocks/I/end?exit=N&timedOut=true|false}</td><td>204</td></tr>
 *   <tr><td>{@code POST /v1/runs/RUN/end?ok=true|false[&failedBlock=I&exit=N]}</td><td>204</td></tr>
 *   <tr><td>{@code POST /v1/journal/KEY?dropped=N}</td><td>204. The body is lines of journal input
 *       {@code KEY}, each ending with a newline; {@code N} lines were dropped by the agent before them. 404 for a
 *       key the unit does not declare.</td></tr>
 *   <tr><td>{@code GET /v1/exec/next?wait=S}</td><td>200 text {@code id ID}, {@code timeout SECONDS}, one
 *       {@code arg BASE64} line per argument, optionally {@code stdin BASE64}; or 204 when no request came
 *       within {@code S} seconds.</td></tr>
 *   <tr><td>{@code POST /v1/exec/ID/result?exit=N&timedOut=B&stdoutBytes=K}</td><td>204; the body is the
 *       standard output ({@code K} bytes) followed by the standard error. 404 for an unknown or expired id.
 *       </td></tr>
 *   <tr><td>{@code GET /v1/query/KIND/NAME/SELECTOR}</td><td>200 text: the value of the reference
 *       {@code +/KIND/NAME/SELECTOR} and a newline; lists joined by commas (as Pritunl Cloud's
 *       {@code pci get}). 404 for an unknown unit, instance, secret or selector, 400 for a malformed one.
 *       Selectors: {@code +/unit/NAME|self/} {@code private_ips}, {@code public_ips}, {@code healthy_private_ips},
 *       {@code healthy_public_ips}, {@code unhealthy_private_ips}, {@code unhealthy_public_ips}, {@code count},
 *       {@code healthy_count}, {@code instances}; {@code +/instance/self|NAME/} {@code id}, {@code name},
 *       {@code hostname}, {@code unit}, {@code index}, {@code pod}, {@code private_ips}, {@code public_ips},
 *       {@code private_ip}, {@code public_ip}, {@code healthy}, {@code spec_version}; {@code +/secret/NAME/FIELD};
 *       {@code +/pod/self/name}. A secret the instance's unit does not declare gets 403 (whether or not it
 *       exists).</td></tr>
 *   <tr><td>{@code GET /v1/query/secret/NAME}</td><td>200 JSON: every field of a secret the instance's unit
 *       declares, as an object of keys to strings; 403 when the unit does not declare it.</td></tr>
 *   <tr><td>{@code GET /v1/meta-data}</td><td>200 JSON: identity, addresses, spec version, state hash and the
 *       visible units with their instances.</td></tr>
 * </table>
 * Other paths get 404, other methods 405 (with {@code Allow}), bad parameters 400, bodies over
 * {@link #MAX_BODY_BYTES} 413.
 *
 * <p>Constants only; not instantiable.
 */
public final class ImdsProtocol {
  private ImdsProtocol() {}

  /** The protocol version. */
  public static final int VERSION = 1;

  /** The path prefix of this version. */
  public static final String PREFIX = "/v1";

  /** The header that carries the instance's token. */
  public static final String TOKEN_HEADER = "X-Pods-Token";

  /** The classpath resource that describes every response body. */
  public static final String SCHEMA_RESOURCE = "/dev/pods/imds/imds-v1.schema.json";

  /** The longest long-poll, in seconds. */
  public static final int MAX_WAIT_SECONDS = 60;

  /** The largest request body. */
  public static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  /** The metadata address inside an instance's namespace: 169.254.169.254, port 80. */
  public static final InetSocketAddress METADATA_ADDRESS = metadataAddress();

  private static InetSocketAddress metadataAddress() {
    try {
      return new InetSocketAddress(InetAddress.getByAddress(new byte[] {(byte) 169, (byte) 254, (byte) 169, (byte) 254}), 80);
    } catch (UnknownHostException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
