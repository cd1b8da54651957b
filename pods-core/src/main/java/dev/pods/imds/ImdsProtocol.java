package dev.pods.imds;

import java.net.InetSocketAddress;

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
 *       key the unit does not declare; 413 for a body over {@link #MAX_OUTPUT_CHUNK_BYTES} (the agent posts at most
 *       1000 lines at a time).</td></tr>
 *   <tr><td>{@code GET /v1/exec/next?wait=S[&hash=H]}</td><td>200 text {@code id ID}, {@code timeout SECONDS},
 *       one {@code arg BASE64} line per argument, optionally {@code stdin BASE64}, then {@code limit BYTES} (the
 *       most output, see {@link #MAX_EXEC_OUTPUT_BYTES}); or 204 when no request came within {@code S} seconds. With
 *       {@code hash}, also 200 text {@code hash H2} as soon as the state hash differs from {@code H}: the agent's
 *       one long poll, for exec requests and state changes alike, which keeps an idle agent's cost at one request
 *       per {@code S} seconds. Counts as a heartbeat.</td></tr>
 *   <tr><td>{@code POST /v1/exec/ID/result?exit=N&timedOut=B&stdoutBytes=K}</td><td>204; the body is the
 *       standard output ({@code K} bytes) followed by the standard error. 404 for an unknown or expired id, and
 *       for an id answered already (so a resent result changes nothing). With {@code overLimit=N} instead (the
 *       output passed {@code limit}; empty body) the request fails with an error naming the limit. A body over
 *       {@link #MAX_BODY_BYTES} fails the request the same way (413).</td></tr>
 *   <tr><td>{@code POST /v1/report}</td><td>204. A batch of run reports, applied in order: each record one
 *       header line, {@code status S}, {@code run-start RUN TRIGGER VERSION HASH BLOCKS} (comma-separated
 *       indexes, {@code -} for none), {@code block-start RUN I},
 *       {@code output RUN I stdout|stderr OFFSET LENGTH} followed by exactly {@code LENGTH} raw bytes,
 *       {@code block-end RUN I EXIT TIMEDOUT}, {@code run-end RUN OK FAILEDBLOCK EXIT}. The same as the single
 *       requests above, in one round trip; a record that names an unknown run is skipped, a malformed one fails
 *       the whole batch (400) before anything is applied.</td></tr>
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
 * {@link #MAX_BODY_BYTES} (output chunks over {@link #MAX_OUTPUT_CHUNK_BYTES}) 413 before they are read, a
 * body without {@code Content-Length} 411.
 *
 * <h2>Reports are idempotent; the guest is not trusted</h2>
 * Every report may be sent again (the agent resends what was not acknowledged with a 2xx): a repeated run
 * start, block start, block end or run end changes nothing, output bytes already received are ignored, a
 * repeated exec result gets 404. The agent treats a 4xx answer as final and retries the rest (no answer, 5xx).
 * What one instance's server keeps is bounded whatever its guest sends: at most {@link #MAX_OPEN_RUNS} open
 * runs (the oldest is forgotten), run ids of at most {@link #MAX_RUN_ID_LENGTH} characters, only the blocks a
 * run declared (below the spec's block count), one partial line per stream, request bodies as above and at most
 * {@link #MAX_BODY_BYTES_IN_FLIGHT} bytes of them at once, at most {@link #MAX_PENDING_REQUESTS} requests at
 * once (503 beyond), at most {@link #MAX_CONNECTIONS} open connections (the next one is reset), and a bounded
 * queue of events for the runtime (beyond it events are dropped and counted).
 * Refusals are logged at WARN, at most once per 10 s per kind.
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

  /** The largest request body (a report, an exec result). */
  public static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  /** The largest body of {@code POST /v1/runs/RUN/blocks/I/output} (the agent sends at most this much at once). */
  public static final int MAX_OUTPUT_CHUNK_BYTES = 1024 * 1024;

  /**
   * The most output (standard output and error together) an exec request may produce: the agent ends a command
   * whose output passes it and reports {@code overLimit}, and the request fails with an error saying so.
   */
  public static final int MAX_EXEC_OUTPUT_BYTES = MAX_BODY_BYTES;

  /** The most request bodies, in bytes, that one instance's server reads at once (503 beyond). */
  public static final int MAX_BODY_BYTES_IN_FLIGHT = 2 * MAX_BODY_BYTES;

  /** The most requests that one instance's server handles or queues at once (503 beyond). */
  public static final int MAX_PENDING_REQUESTS = 32;

  /**
   * The most TCP connections a guest may hold open to its metadata service at once. The Linux network driver
   * enforces it in the instance namespace's nftables table (the guest cannot pass it; the JVM spends nothing on
   * the excess): the next connection is reset and counted there, and the driver logs a WARN naming the instance
   * when the count rose (at most once per instance per 10 s). An agent of this version uses a handful.
   */
  public static final int MAX_CONNECTIONS = 64;

  /** The most runs an instance may have open at once; a new run beyond it makes the server forget the oldest. */
  public static final int MAX_OPEN_RUNS = 4;

  /** The longest run id (characters {@code A-Z a-z 0-9 . _ -}). */
  public static final int MAX_RUN_ID_LENGTH = 64;

  /** The metadata address inside an instance's namespace: {@link dev.pods.PodRuntime#DEFAULT_METADATA_ADDRESS}. */
  public static final InetSocketAddress METADATA_ADDRESS = dev.pods.PodRuntime.DEFAULT_METADATA_ADDRESS;

}
