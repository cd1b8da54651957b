#!/bin/sh
# pods-agent: the pods guest agent. One POSIX sh program (busybox ash, dash, bash).
#
#   pods-agent.sh run          the agent: runs the phases, watches for changes, serves exec requests
#   pods-agent.sh get REF      resolves +/kind/name/selector through the metadata service
#   pods get REF | pci get REF the same, when installed under the name pods or pci
#
# Protocol: see the javadoc of dev.pods.imds.ImdsProtocol (version 1, paths under /v1/).
# Configuration: key=value lines in $PODS_AGENT_CONF (default /etc/pods/agent.conf); a PODS_* variable of
# the same name in upper case wins over the file (url -> PODS_URL, token -> PODS_TOKEN, ...).

PODS_AGENT_VERSION=1

pods_log() {
  printf 'pods-agent[%s]: %s\n' "$$" "$*" >&2
}

conf_get() { # key: last value of key=... in the config file
  [ -r "$CONF" ] || return 0
  sed -n "s/^$1=//p" "$CONF" | tail -n 1
}

load_config() {
  CONF=${PODS_AGENT_CONF:-/etc/pods/agent.conf}
  PODS_URL=${PODS_URL:-$(conf_get url)}
  PODS_TOKEN=${PODS_TOKEN:-$(conf_get token)}
  PODS_STATE_DIR=${PODS_STATE_DIR:-$(conf_get state_dir)}
  PODS_RUN_DIR=${PODS_RUN_DIR:-$(conf_get run_dir)}
  PODS_BIN_DIR=${PODS_BIN_DIR:-$(conf_get bin_dir)}
  PODS_WORKDIR=${PODS_WORKDIR:-$(conf_get workdir)}
  PODS_SHELL=${PODS_SHELL:-$(conf_get shell)}
  PODS_PYTHON=${PODS_PYTHON:-$(conf_get python)}
  PODS_HTTP=${PODS_HTTP:-$(conf_get http)}
  PODS_POLL_WAIT=${PODS_POLL_WAIT:-$(conf_get poll_wait)}
  : "${PODS_URL:=http://169.254.169.254}"
  : "${PODS_STATE_DIR:=/var/lib/pods-agent}"
  : "${PODS_RUN_DIR:=/run/pods-agent}"
  : "${PODS_BIN_DIR:=/usr/local/bin}"
  : "${PODS_WORKDIR:=/}"
  : "${PODS_SHELL:=/bin/sh}"
  : "${PODS_PYTHON:=python3}"
  : "${PODS_POLL_WAIT:=20}"
  if [ -z "$PODS_HTTP" ]; then
    if command -v wget >/dev/null 2>&1; then PODS_HTTP=wget
    elif command -v curl >/dev/null 2>&1; then PODS_HTTP=curl
    else pods_log "neither wget nor curl found"; return 1
    fi
  fi
  if [ -z "$PODS_TOKEN" ]; then
    pods_log "no token configured (token= in $CONF or PODS_TOKEN)"
    return 1
  fi
  HTTP_TAG=main
  HTTP_PID= HTTP_WD= NAP_PID=
  self_pid
}

# http METHOD PATH OUTFILE [BODYFILE] [SECONDS]: one request; HTTP_STATUS holds the status (000: no answer).
# Returns 0 for 2xx. The client runs in the background and is waited for, so that a signal to the agent
# interrupts a long poll at once. wget has no time limit of its own (busybox's -T is not built in): in the agent,
# the one guard process (guard_loop) ends a request past its deadline; elsewhere (pods get) a watchdog of ours
# does, not busybox timeout: a timeout signalled while it forks its watcher leaves that watcher watching pid 1.
http() {
  _hm=$1 _hp=$2 _ho=$3 _hb=${4:-} _ht=${5:-30}
  : >"$_ho"
  HTTP_STATUS=000
  if [ "$_hm" = POST ]; then
    [ -n "$_hb" ] || _hb=/dev/null
  fi
  case $PODS_HTTP in
    curl)
      if [ "$_hm" = POST ]; then set -- --data-binary "@$_hb" -H 'Content-Type: application/octet-stream'; else set --; fi
      curl -s -o "$_ho" -w '%{http_code}' --noproxy '*' --max-time "$_ht" -H "X-Pods-Token: $PODS_TOKEN" \
        "$@" "$PODS_URL$_hp" >"$_ho.st" 2>/dev/null 7>&- 8>&- &
      HTTP_PID=$!
      wait_child "$HTTP_PID"
      HTTP_PID=
      HTTP_STATUS=
      { read -r HTTP_STATUS <"$_ho.st"; } 2>/dev/null
      [ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
      ;;
    *)
      if [ "$_hm" = POST ]; then set -- --post-file "$_hb"; else set --; fi
      wget -q -Y off -O "$_ho" --header "X-Pods-Token: $PODS_TOKEN" \
        "$@" "$PODS_URL$_hp" 2>"$_ho.err" 7>&- 8>&- &
      HTTP_PID=$!
      if [ -n "${GUARD_PID:-}" ]; then
        guard_add "$HTTP_TAG" "$HTTP_PID" "$_ht"
      else
        start_watchdog "$_ht" "$HTTP_PID" /dev/null
        HTTP_WD=$WD_NEW
      fi
      if wait_child "$HTTP_PID"; then
        HTTP_STATUS=200
      else
        HTTP_STATUS=$(sed -n 's/.*HTTP\/1\.[01] \([0-9][0-9][0-9]\).*/\1/p' "$_ho.err" | head -n 1)
        [ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
      fi
      if [ -n "${GUARD_PID:-}" ]; then guard_del "$HTTP_TAG"; else stop "$HTTP_WD"; fi
      HTTP_WD= HTTP_PID=
      ;;
  esac
  case $HTTP_STATUS in 2??) return 0 ;; *) return 1 ;; esac
}

post_acked() { # PATH [BODYFILE]: a POST sent again (backing off) until acknowledged; a 4xx answer is final
  _pd=0.2
  until http POST "$1" "$W/http.$HTTP_TAG" "${2:-}" 10; do
    case $HTTP_STATUS in
      401) ;;
      4??) pods_log "POST ${1%%\?*} refused (HTTP $HTTP_STATUS); dropped"; return 1 ;;
    esac
    nap $_pd
    case $_pd in 0.2) _pd=1 ;; 1) _pd=2 ;; *) _pd=5 ;; esac
  done
}

# ------------------------------------------------------------------------------------ the guard
# One process per agent bounds every request's time (wget has no limit of its own): each request registers
# "pid owner deadline" under $W/guard while it runs. The guard wakes every poll_wait seconds (and at once on
# USR1), ends requests past their deadline, and ends itself, the shippers and what they registered when the
# agent's main process is gone (killed with -9: its children would otherwise poll on forever).

uptime_s() { # -> UP: whole seconds since boot, without a process
  read -r UP _ </proc/uptime
  UP=${UP%.*}
}

guard_add() { # TAG PID SECONDS
  uptime_s
  printf '%s %s %s\n' "$2" "$SELF" $((UP + $3)) >"$W/guard/$1"
}

guard_del() { # TAG
  : >"$W/guard/$1"
}

agent_alive() { # whether the main process (MAIN_PID) still runs and still holds the lock
  { read -r _lp <"$PODS_RUN_DIR/lock/pid"; } 2>/dev/null || return 1
  [ "$_lp" = "$MAIN_PID" ] && kill -0 "$MAIN_PID" 2>/dev/null
}

guard_loop() {
  self_pid
  NAP_PID=
  # "$!" too: the TERM can come between "sleep &" and NAP_PID=$!
  trap 'trap "" TERM; stop "$NAP_PID" "$!"; exit 0' TERM
  trap : USR1
  while :; do
    sleep "$PODS_POLL_WAIT" 7>&- 8>&- &
    NAP_PID=$!
    wait "$NAP_PID"
    kill "$NAP_PID" 2>/dev/null
    wait "$NAP_PID" 2>/dev/null
    NAP_PID=
    _alive=1
    agent_alive || _alive=0
    uptime_s
    for _gf in "$W"/guard/*; do
      { read -r _gp _go _gd <"$_gf"; } 2>/dev/null || continue
      [ -n "$_gp" ] || continue
      if [ $_alive = 0 ] || [ "$UP" -ge "$_gd" ]; then
        # only a child of the registering process (its pid is not reused while that one waits for it)
        { own_child "$_gp" "$_go" || { [ $_alive = 0 ] && own_child "$_gp" 1; }; } && kill -TERM "$_gp" 2>/dev/null
      fi
    done
    [ $_alive = 1 ] || exit 0
  done
}

wait_child() { # PID: waits for a child even across the main loop's wake-up signal (USR1); returns its status
  while :; do
    WOKEN=
    wait "$1"
    _wc=$?
    [ -n "$WOKEN" ] && [ $_wc -gt 128 ] || return $_wc
  done
}

nap() { # SECONDS: a sleep that a trapped signal interrupts at once (the exit handler stops NAP_PID)
  sleep "$1" 7>&- 8>&- &
  NAP_PID=$!
  wait "$NAP_PID"
  NAP_PID=
}

# Ending children. A shell that traps TERM passes its handler to each child it forks; until the child execs or
# resets its traps, a TERM sent to it only marks a trap that is then dropped, so a single kill can be lost (and
# a sleep, a long poll or a whole subshell loop then outlives the agent). stop therefore sends TERM again until
# each target is gone. A trap can also run between "cmd &" and "PID=$!", so exit handlers pass "$!" as well.

self_pid() { # SELF: this shell's own pid ($$ names the main shell in subshells too)
  { read -r SELF _ </proc/self/stat; } 2>/dev/null || SELF=
}

own_child() { # PID [PARENT]: a child of this shell (or of PARENT) that is neither dead nor a zombie (so the pid
  # is not reused)
  [ -n "$1" ] || return 1
  { read -r _oc <"/proc/$1/stat"; } 2>/dev/null || return 1
  _oc=${_oc##*) }
  case ${_oc%% *} in Z | X) return 1 ;; esac
  _oc=${_oc#* }
  [ "${_oc%% *}" = "${2:-$SELF}" ]
}

stop() { # PID...: TERM each child (its process group when it leads one), again until gone; then reaps them
  _sn=0
  while :; do
    _sl=
    for _sp in "$@"; do
      own_child "$_sp" || continue
      kill -TERM -"$_sp" 2>/dev/null || kill -TERM "$_sp" 2>/dev/null
      _sl=1
    done
    [ -n "$_sl" ] && [ $_sn -lt 300 ] || break
    sleep 0.01
    _sn=$((_sn + 1))
  done
  for _sp in "$@"; do
    [ -n "$_sp" ] && wait "$_sp" 2>/dev/null
  done
  return 0
}

# ---------------------------------------------------------------------------------------------- cli

cli_get() {
  load_config || exit 2
  _ref=${1:-}
  case $_ref in
    +/?*/?*) ;;
    *) printf 'usage: pods get +/kind/name/selector\n' >&2; exit 2 ;;
  esac
  W=$(mktemp -d "${TMPDIR:-/tmp}/pods-get.XXXXXX") || exit 2
  if http GET "/v1/query/${_ref#+/}" "$W/answer" "" 15; then
    cat "$W/answer"
    rm -rf "$W"
    exit 0
  fi
  case $HTTP_STATUS in
    404) printf 'pods get: %s: not found\n' "$_ref" >&2 ;;
    400) printf 'pods get: %s: malformed reference\n' "$_ref" >&2 ;;
    403) printf 'pods get: %s: not declared by this unit (access refused)\n' "$_ref" >&2 ;;
    401) printf 'pods get: token refused by the metadata service\n' >&2 ;;
    000) printf 'pods get: metadata service unreachable at %s\n' "$PODS_URL" >&2 ;;
    *) printf 'pods get: %s: HTTP %s\n' "$_ref" "$HTTP_STATUS" >&2 ;;
  esac
  rm -rf "$W"
  exit 1
}

# ------------------------------------------------------------------------------------ lock, setup

acquire_lock() { # exactly one agent per boot: mkdir is atomic; the run dir is per boot (tmpfs)
  _try=0
  while [ $_try -lt 2 ]; do
    if mkdir "$PODS_RUN_DIR/lock" 2>/dev/null; then
      echo $$ >"$PODS_RUN_DIR/lock/pid"
      return 0
    fi
    _holder=$(cat "$PODS_RUN_DIR/lock/pid" 2>/dev/null)
    if [ -z "$_holder" ]; then
      # the holder is between mkdir and writing its pid
      sleep 1
      _holder=$(cat "$PODS_RUN_DIR/lock/pid" 2>/dev/null)
    fi
    if [ -n "$_holder" ] && kill -0 "$_holder" 2>/dev/null; then
      pods_log "another agent runs (pid $_holder); exiting"
      return 1
    fi
    pods_log "removing the stale lock of pid ${_holder:-?}"
    rm -rf "$PODS_RUN_DIR/lock"
    _try=$((_try + 1))
  done
  return 1
}

write_helpers() {
  # Dumps the exported environment as sourceable lines export NAME='value' (values kept byte for byte:
  # newlines, quotes and non-ASCII bytes survive; only ' needs escaping, as '\'').
  cat >"$W/envdump.awk" <<'EOF'
function q(s,   r, i) {
  r = ""
  while ((i = index(s, "'")) > 0) { r = r substr(s, 1, i - 1) "'\\''"; s = substr(s, i + 1) }
  return r s
}
BEGIN {
  for (k in ENVIRON) {
    if (k !~ /^[A-Za-z_][A-Za-z0-9_]*$/ || k == "SHLVL" || k == "_" || k == "OLDPWD") continue
    printf "export %s='%s'\n", k, q(ENVIRON[k])
  }
}
EOF
  cat >"$W/lib.sh" <<'EOF'
__pods_save() {
  awk -f "$__pods_w/envdump.awk" >"$__pods_w/env.sh.new" && pwd >"$__pods_w/cwd.new" &&
    mv "$__pods_w/env.sh.new" "$__pods_w/env.sh" && mv "$__pods_w/cwd.new" "$__pods_w/cwd"
}
EOF
  cat >"$W/loop.py" <<'EOF'
import os, re, signal, sys, traceback

_ENV_RE = re.compile(rb"export ([A-Za-z_][A-Za-z0-9_]*)='((?:[^']|'\\'')*)'\n")

class _PodsTimeout(BaseException):
    pass

def _on_alarm(signum, frame):
    raise _PodsTimeout()

def export(name, value):
    """Exports a variable to the later blocks, shell and python alike."""
    os.environ[str(name)] = str(value)

def _load_env(path):
    with open(path, "rb") as f:
        data = f.read()
    os.environb.clear()
    for m in _ENV_RE.finditer(data):
        os.environb[m.group(1)] = m.group(2).replace(b"'\\''", b"'")

def _save_env(path):
    out = []
    for k, v in os.environb.items():
        if re.fullmatch(rb"[A-Za-z_][A-Za-z0-9_]*", k):
            out.append(b"export " + k + b"='" + v.replace(b"'", b"'\\''") + b"'\n")
    with open(path + ".new", "wb") as f:
        f.write(b"".join(out))
    os.replace(path + ".new", path)

def _main():
    ctl = os.fdopen(3, "w")
    os.set_inheritable(3, False)
    signal.signal(signal.SIGALRM, _on_alarm)
    g = {"__name__": "__main__", "export": export}
    for line in sys.stdin.buffer:
        src, out, err, envf, cwdf, tmo = line.decode("utf-8", "surrogateescape").rstrip("\n").split("\t")
        rc = 0
        saved = (os.dup(1), os.dup(2))
        try:
            fo = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            fe = os.open(err, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.dup2(fo, 1); os.dup2(fe, 2); os.close(fo); os.close(fe)
            _load_env(envf)
            with open(cwdf, "rb") as f:
                os.chdir(f.read().rstrip(b"\n") or b"/")
            with open(src, "rb") as f:
                code = compile(f.read(), src, "exec")
            signal.alarm(int(tmo))
            try:
                exec(code, g)
            finally:
                signal.alarm(0)
            _save_env(envf)
            with open(cwdf + ".new", "wb") as f:
                f.write(os.getcwdb() + b"\n")
            os.replace(cwdf + ".new", cwdf)
        except _PodsTimeout:
            sys.stderr.write("pods-agent: python block timed out after %s s\n" % tmo)
            rc = 124
        except SystemExit as e:
            if e.code is None or e.code == 0:
                rc = 0
            elif isinstance(e.code, int):
                rc = e.code & 0xFF or 1
            else:
                sys.stderr.write(str(e.code) + "\n")
                rc = 1
            if rc == 0:
                _save_env(envf)
        except BaseException:
            traceback.print_exc()
            rc = 1
        finally:
            try:
                sys.stdout.flush(); sys.stderr.flush()
            except Exception:
                pass
            os.dup2(saved[0], 1); os.dup2(saved[1], 2); os.close(saved[0]); os.close(saved[1])
        ctl.write("%d\n" % rc)
        ctl.flush()

_main()
EOF
}

install_cli() { # pods and pci, for scripts: both run this program's get command
  mkdir -p "$PODS_BIN_DIR" || return 0
  cp "$AGENT_SELF" "$PODS_RUN_DIR/pods-agent.sh" 2>/dev/null || return 0
  for _n in pods pci; do
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$PODS_SHELL" "'$PODS_RUN_DIR/pods-agent.sh'" >"$PODS_BIN_DIR/$_n.new" &&
      chmod 755 "$PODS_BIN_DIR/$_n.new" && mv "$PODS_BIN_DIR/$_n.new" "$PODS_BIN_DIR/$_n"
  done
}

init_carry() { # the environment and directory the first block starts from
  (
    _bin=$PODS_BIN_DIR _run=$PODS_RUN_DIR
    unset PODS_URL PODS_TOKEN PODS_STATE_DIR PODS_RUN_DIR PODS_BIN_DIR PODS_WORKDIR PODS_SHELL PODS_PYTHON \
      PODS_HTTP PODS_POLL_WAIT
    PODS_AGENT_CONF=$_run/agent.conf
    export PODS_AGENT_CONF
    case ":$PATH:" in
      *":$_bin:"*) ;;
      *) PATH=$_bin:${PATH:-/usr/sbin:/usr/bin:/sbin:/bin}; export PATH ;;
    esac
    awk -f "$W/envdump.awk"
  ) >"$W/env.sh"
  printf '%s\n' "$PODS_WORKDIR" >"$W/cwd"
  # the configuration pods get reads from inside blocks
  (umask 077; printf 'url=%s\ntoken=%s\nhttp=%s\n' "$PODS_URL" "$PODS_TOKEN" "$PODS_HTTP" >"$PODS_RUN_DIR/agent.conf")
}

# ------------------------------------------------------------------------------- spec and phases

fetch_spec() { # GET /v1/spec into $W/spec/ (blocks: "index language phase timeout", N.src)
  http GET /v1/spec "$W/spec.txt" "" 15 || return 1
  [ "$(head -n 1 "$W/spec.txt")" = "pods-spec 1" ] || { pods_log "unknown spec format"; return 1; }
  [ "$(tail -n 1 "$W/spec.txt")" = "end" ] || { pods_log "truncated spec"; return 1; }
  rm -rf "$W/spec.new"
  mkdir "$W/spec.new" || return 1
  : >"$W/spec.new/blocks"
  : >"$W/spec.new/mounts"
  : >"$W/spec.new/journals"
  while read -r _kw _a _b _c _d _e; do
    case $_kw in
      version) SPEC_VERSION=$_a ;;
      hash) SPEC_HASH=$_a ;;
      initialized) SPEC_INIT=$_a ;;
      block)
        printf '%s' "$_e" | base64 -d >"$W/spec.new/$_a.src" || return 1
        printf '%s %s %s %s\n' "$_a" "$_b" "$_c" "$_d" >>"$W/spec.new/blocks"
        ;;
      mount) printf '%s %s %s %s\n' "$_a" "$_b" "$_c" "$_d" >>"$W/spec.new/mounts" ;;
      journal) printf '%s %s %s\n' "$_a" "$_b" "$_c" >>"$W/spec.new/journals" ;;
    esac
  done <"$W/spec.txt"
  rm -rf "$W/spec"
  mv "$W/spec.new" "$W/spec"
}

start_watchdog() { # SECONDS PID MARKER [LONG WAKE] -> WD_NEW: after SECONDS, mark, then TERM (KILL 2 s later) PID's
  # group or PID. With LONG and WAKE: after one second, creates the file LONG and sends USR1 to WAKE (a block
  # that runs that long gets its output shipped live; a shorter one costs no shipper).
  # Its own session and process group, and no trap: stop's group TERM ends the shell and its sleep together
  # (a trap that killed the sleep by pid lost the TERM when it came before the sleep's exec, and the sleep
  # then outlived the agent for the whole timeout).
  setsid sh -c 'if [ -n "$4" ] && [ "$1" -gt 1 ]; then
      sleep 1 || exit 0
      : >"$4"; kill -USR1 "$5" 2>/dev/null; set -- $(($1 - 1)) "$2" "$3"
    fi
    sleep "$1" || exit 0
    : >"$3"; kill -TERM -"$2" 2>/dev/null || kill -TERM "$2" 2>/dev/null
    sleep 2 || exit 0
    kill -KILL -"$2" 2>/dev/null || kill -KILL "$2" 2>/dev/null' sh "$1" "$2" "$3" "${4:-}" "${5:-}" \
    </dev/null >/dev/null 2>&1 7>&- 8>&- &
  WD_NEW=$!
}

stop_watchdog() {
  stop "$WD_PID"
  WD_PID=
}

ship_stream() { # STREAM FILE: posts FILE's bytes live as they come (tail -f wakes at most once a second), and
  # records in $W/b.STREAM.ack how many were acknowledged; quits on the first failure (the block's end report
  # sends the rest from there). Costs nothing while the block is silent: dd waits in read().
  HTTP_TAG=ship-$1
  self_pid
  _tp= _dp=
  trap 'trap "" TERM; stop "$_tp" "$_dp" "$HTTP_PID" "$!"; exit 0' TERM
  _off=0
  printf '0\n' >"$W/b.$1.ack"
  tail -c +1 -f "$2" 2>/dev/null 7>&- 8>&- >"$W/b.$1.fifo" &
  _tp=$!
  printf '%s %s 999999999\n' "$_tp" "$SELF" >"$W/guard/tail-$1"
  exec 6<"$W/b.$1.fifo"
  while :; do
    # in the background and waited for: a TERM ends the wait at once, not only once dd has read something
    dd bs=65536 count=1 of="$W/b.$1.chunk" 2>"$W/b.$1.dd" <&6 &
    _dp=$!
    wait "$_dp" || break
    _dp=
    { read -r _ && read -r _ && read -r _n _; } <"$W/b.$1.dd" || break
    [ "${_n:-0}" -gt 0 ] 2>/dev/null || break
    http POST "$SHIP_BASE?stream=$1&offset=$_off" "$W/http.ship-$1" "$W/b.$1.chunk" 10 || break
    _off=$((_off + _n))
    printf '%s\n' "$_off" >"$W/b.$1.ack"
  done
  exec 6<&-
  stop "$_tp"
  : >"$W/guard/tail-$1"
}

ship_if_long() { # starts the block's two shippers once its watchdog said it runs longer than a second
  [ -z "$SHIP_PID" ] && [ -e "$W/b.long" ] || return 0
  ship_stream stdout "$W/b.out" 7>&- 8>&- &
  SHIP_PID=$!
  ship_stream stderr "$W/b.err" 7>&- 8>&- &
  SHIP2_PID=$!
}

report() { # WORDS...: appends one record to the outbox, sent with the next flush
  printf '%s\n' "$*" >>"$W/outbox"
}

report_output() { # RUN INDEX STREAM FILE: appends the bytes of FILE that the shipper did not get acknowledged
  [ -s "$4" ] || return 0
  _ack=0
  { read -r _ack <"$W/b.$3.ack"; } 2>/dev/null
  _sz=$(($(wc -c <"$4")))
  [ "$_sz" -gt "${_ack:-0}" ] || return 0
  _len=$((_sz - _ack))
  [ "$_len" -le 1048576 ] || { _ack=$((_sz - 1048576)); _len=1048576; }
  printf 'output %s %s %s %s %s\n' "$1" "$2" "$3" "$_ack" "$_len" >>"$W/outbox"
  if [ "$_ack" = 0 ]; then head -c "$_len" "$4"; else tail -c +$((_ack + 1)) "$4" | head -c "$_len"; fi >>"$W/outbox"
}

flush() { # sends the outbox in one request; 0 when acknowledged (or refused for good: 4xx), else it stays
  [ -s "$W/outbox" ] || return 0
  if http POST /v1/report "$W/http.$HTTP_TAG" "$W/outbox" 10; then
    : >"$W/outbox"
    return 0
  fi
  case $HTTP_STATUS in
    401) ;;
    4??) pods_log "report refused (HTTP $HTTP_STATUS); dropped"; : >"$W/outbox"; return 0 ;;
  esac
  return 1
}

flush_acked() { # flushes again, backing off, until acknowledged
  _fd=0.2
  until flush; do
    nap $_fd
    case $_fd in 0.2) _fd=1 ;; 1) _fd=2 ;; *) _fd=5 ;; esac
  done
}

python_start() {
  rm -f "$W/py.in" "$W/py.out"
  mkfifo "$W/py.in" "$W/py.out" || return 1
  "$PODS_PYTHON" -u "$W/loop.py" <"$W/py.in" 3>"$W/py.out" >/dev/null 2>>"$W/python.log" &
  PY_PID=$!
  exec 7>"$W/py.in" 8<"$W/py.out"
}

python_stop() {
  [ -n "$PY_PID" ] || return 0
  exec 7>&- 8<&-
  stop "$PY_PID"
  PY_PID=
}

shell_for() { # LANGUAGE -> the interpreter's absolute path
  case $1 in
    bash) command -v bash ;;
    shell) command -v bash || command -v sh ;;
    *) command -v sh ;;
  esac
}

run_block() { # RUN INDEX LANGUAGE TIMEOUT -> BLOCK_RC, BLOCK_TIMED_OUT; returns 0 on success
  _r=$1 _i=$2 _lang=$3 _tmo=$4
  : >"$W/b.out"
  : >"$W/b.err"
  rm -f "$W/b.rc" "$W/b.timedout" "$W/b.long" "$W/b.stdout.ack" "$W/b.stderr.ack"
  report block-start "$_r" "$_i"
  flush
  SHIP_BASE=/v1/runs/$_r/blocks/$_i/output
  BLOCK_TIMED_OUT=false
  if [ "$_lang" = python ]; then
    [ -n "$PY_PID" ] || python_start || { BLOCK_RC=127; pods_log "cannot start $PODS_PYTHON"; }
    if [ -n "$PY_PID" ]; then
      start_watchdog $((_tmo + 5)) "$PY_PID" "$W/b.timedout" "$W/b.long" "$MAIN_PID"
      WD_PID=$WD_NEW
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$W/spec/$_i.src" "$W/b.out" "$W/b.err" "$W/env.sh" "$W/cwd" "$_tmo" >&7
      BLOCK_RC=
      while WOKEN= && ! read -r BLOCK_RC <&8 && [ -n "$WOKEN" ]; do ship_if_long; done
      if [ -n "$BLOCK_RC" ]; then :; else
        # the interpreter died (hard timeout, or killed): its globals are gone, the next block starts anew
        BLOCK_RC=137
        python_stop
      fi
      stop_watchdog
      [ "$BLOCK_RC" = 124 ] && BLOCK_TIMED_OUT=true
    fi
  else
    _sh=$(shell_for "$_lang")
    {
      printf "__pods_w='%s'\n" "$W"
      printf '. "$__pods_w/lib.sh"\n. "$__pods_w/env.sh"\n'
      printf 'cd -- "$(cat "$__pods_w/cwd")"\n'
      printf "trap '__pods_rc=\$?; if [ \"\$__pods_rc\" -eq 0 ]; then __pods_save || __pods_rc=\$?; fi; exit \"\$__pods_rc\"' EXIT\n"
      printf '. "$__pods_w/spec/%s.src"\n' "$_i"
    } >"$W/b.sh"
    setsid sh -c 'env -i "$1" -e "$2"; echo $? >"$3"' sh "$_sh" "$W/b.sh" "$W/b.rc" \
      </dev/null >>"$W/b.out" 2>>"$W/b.err" 7>&- 8>&- &
    BLOCK_PID=$!
    start_watchdog "$_tmo" "$BLOCK_PID" "$W/b.timedout" "$W/b.long" "$MAIN_PID"
    WD_PID=$WD_NEW
    while :; do
      WOKEN=
      wait "$BLOCK_PID"
      _w=$?
      [ -n "$WOKEN" ] && [ $_w -gt 128 ] || break
      ship_if_long
    done
    stop_watchdog
    BLOCK_PID=
    BLOCK_RC=
    { read -r BLOCK_RC <"$W/b.rc"; } 2>/dev/null
    [ -n "$BLOCK_RC" ] || BLOCK_RC=$_w
    if [ -e "$W/b.timedout" ]; then
      BLOCK_TIMED_OUT=true
      BLOCK_RC=124
      printf 'pods-agent: block %s timed out after %s s\n' "$_i" "$_tmo" >>"$W/b.err"
    fi
  fi
  [ -z "$SHIP_PID" ] || stop "$SHIP_PID" "$SHIP2_PID"
  SHIP_PID= SHIP2_PID=
  report_output "$_r" "$_i" stdout "$W/b.out"
  report_output "$_r" "$_i" stderr "$W/b.err"
  report block-end "$_r" "$_i" "$BLOCK_RC" "$BLOCK_TIMED_OUT"
  [ "$BLOCK_RC" = 0 ]
}

run_phase() { # TRIGGER: runs the selected blocks of $W/spec in order; returns 0 when all succeeded
  RUN_SEQ=$((RUN_SEQ + 1))
  _run=$BOOT_ID-$RUN_SEQ
  _sel=$(awk -v t="$1" '
    t == "first_boot" || (t == "reboot" && $3 != "initial") || (t == "cluster_change" && $3 == "reload") {
      printf "%s%s", sep, $1; sep = ","
    }' "$W/spec/blocks")
  report run-start "$_run" "$1" "$SPEC_VERSION" "$SPEC_HASH" "${_sel:--}"
  _failed=
  _ifs=$IFS
  IFS=,
  set -- $_sel
  IFS=$_ifs
  for _bi in "$@"; do
    _line=$(awk -v i="$_bi" '$1 == i' "$W/spec/blocks")
    set -- $_line
    if ! run_block "$_run" "$1" "$2" "$4"; then
      _failed=$1
      break
    fi
  done
  # the run's end is reported by the caller's next set_status, in the same request
  if [ -z "$_failed" ]; then
    report run-end "$_run" true -1 0
    return 0
  fi
  report run-end "$_run" false "$_failed" "$BLOCK_RC"
  return 1
}

set_status() { # STATUS [now]: reports it with everything in the outbox, again until acknowledged (with "now": one
  # attempt; what did not arrive goes with the next flush)
  STATUS=$1
  printf '%s\n' "$1" >"$PODS_RUN_DIR/status"
  report status "$1"
  if [ "${2:-}" = now ]; then flush; else flush_acked; fi
}

# ------------------------------------------------------------------------------------------- exec

run_exec() { # ID: runs one exec request from $W/exec/ID/req and posts its result
  _eid=$1
  HTTP_TAG=exec$_eid
  _d=$W/exec/$_eid
  self_pid
  _ep= WD_PID=
  trap 'trap "" TERM; stop "$_ep" "$WD_PID" "$HTTP_PID" "$HTTP_WD" "$!"; exit 0' TERM
  _tmo=$(sed -n 's/^timeout //p' "$_d/req")
  set --
  while read -r _kw _b; do
    [ "$_kw" = arg ] || continue
    _v=$(printf '%s' "$_b" | base64 -d; printf x)
    set -- "$@" "${_v%x}"
  done <"$_d/req"
  _in=/dev/null
  if grep -q '^stdin ' "$_d/req"; then
    sed -n 's/^stdin //p' "$_d/req" | base64 -d >"$_d/in"
    _in=$_d/in
  fi
  _lim=$(sed -n 's/^limit //p' "$_d/req")
  _lim=${_lim:-4194304}
  # standard output passes through head, which quits one byte past the limit: the command then ends on SIGPIPE
  # instead of filling the disk until its timeout; the whole pipeline is one process group (setsid), which is
  # what the watchdog ends
  (cd "$PODS_WORKDIR" 2>/dev/null || cd /
    exec setsid sh -c 'd=$1 l=$2 i=$3; shift 3
      { "$@"; echo $? >"$d/rc"; } <"$i" 2>"$d/err" | head -c "$l" >"$d/out"' sh "$_d" $((_lim + 1)) "$_in" "$@") \
    </dev/null >/dev/null 2>&1 &
  _ep=$!
  start_watchdog "${_tmo:-60}" "$_ep" "$_d/timedout"
  WD_PID=$WD_NEW
  wait "$_ep"
  stop_watchdog
  _rc=
  { read -r _rc <"$_d/rc"; } 2>/dev/null
  [ -n "$_rc" ] || _rc=137
  _to=false
  [ -e "$_d/timedout" ] && { _to=true; _rc=124; }
  _ob=$(($(wc -c <"$_d/out")))
  _eb=$(($(wc -c <"$_d/err")))
  if [ $((_ob + _eb)) -gt "$_lim" ]; then
    kill -TERM -"$_ep" 2>/dev/null
    post_acked "/v1/exec/$_eid/result?overLimit=$((_ob + _eb))"
  else
    cat "$_d/out" "$_d/err" >"$_d/result"
    post_acked "/v1/exec/$_eid/result?exit=$_rc&timedOut=$_to&stdoutBytes=$_ob" "$_d/result"
  fi
  rm -rf "$_d" "$W/guard/exec$_eid"
}

poll_loop() { # the agent's one long poll: starts each exec request in the background, and tells the main loop
  # (USR1, and $W/state.hash) when the state hash differs from the one it handled last ($W/seen)
  HTTP_TAG=poll
  self_pid
  RUNNERS=
  trap 'exec_loop_exit' TERM INT
  _known= _mseen= _lost=0
  while :; do
    agent_alive || exit 0
    _s=
    { read -r _s <"$W/seen"; } 2>/dev/null
    if [ -n "$_s" ] && [ "$_s" != "$_mseen" ]; then _mseen=$_s; _known=$_s; fi
    if http GET "/v1/exec/next?wait=$PODS_POLL_WAIT${_known:+&hash=$_known}" "$W/exec.next" "" $((PODS_POLL_WAIT + 10)); then
      if [ $_lost = 1 ]; then
        # the metadata service came back (perhaps a new one, after a restart of the runtime): report again
        _lost=0
        printf '1\n' >"$W/resend"
        kill -USR1 "$MAIN_PID" 2>/dev/null
      fi
      _id= _h=
      { read -r _kw _v <"$W/exec.next"; } 2>/dev/null
      case $_kw in id) _id=$_v ;; hash) _h=$_v ;; esac
      if [ -n "$_id" ]; then
        mkdir -p "$W/exec/$_id"
        mv "$W/exec.next" "$W/exec/$_id/req"
        run_exec "$_id" &
        _live=$!
        for _p in $RUNNERS; do own_child "$_p" && _live="$_live $_p"; done
        RUNNERS=$_live
      elif [ -n "$_h" ]; then
        _known=$_h
        printf '%s\n' "$_h" >"$W/state.hash"
      fi
      # level-triggered: as long as the main loop has not handled the newest hash, it is told again
      _s=
      { read -r _s <"$W/seen"; } 2>/dev/null
      [ -n "$_known" ] && [ "$_known" != "$_s" ] && [ -n "$_s" ] && kill -USR1 "$MAIN_PID" 2>/dev/null
    elif [ "$HTTP_STATUS" = 401 ]; then
      _lost=1
      nap 5
    else
      _lost=1
      nap 1
    fi
  done
}

exec_loop_exit() {
  # Each runner's own TERM handler ends its request's process group and watchdog; all children are reaped
  # here. Further TERMs (stop resends them) are ignored from here on.
  trap '' TERM INT
  stop "$HTTP_PID" "$HTTP_WD" "$NAP_PID" $RUNNERS "$!"
  wait
  exit 0
}

# ---------------------------------------------------------------------------------------- storage

find_disk() { # SERIAL -> DISK_DEV: the virtio disk whose serial number is SERIAL
  DISK_DEV=
  for _fd in /sys/block/vd*; do
    [ -r "$_fd/serial" ] && [ "$(cat "$_fd/serial")" = "$1" ] || continue
    DISK_DEV=/dev/${_fd##*/}
    return 0
  done
  return 1
}

disk_blank() { # DEV: its first 64 KiB are zeros (a new volume; ext4 has its superblock at 1 KiB)
  [ -z "$(dd if="$1" bs=65536 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' 0\n')" ]
}

mount_folder() { # TAG PATH ro|rw: mounts the host folder shared as virtiofs TAG
  grep -q "^$1 $2 virtiofs " /proc/mounts && return 0
  modprobe virtiofs 2>/dev/null
  mkdir -p "$2" && mount -t virtiofs -o "$3" "$1" "$2" || { pods_log "cannot mount the host folder $1 on $2"; return 1; }
  pods_log "mounted the host folder $1 on $2 ($3)"
}

mount_storage() { # mounts the spec's disks (formatting blank ones) and host folders; returns 1, after saying why, when one fails
  while read -r _mt _ms _mp _mo; do
    _mp=$(printf '%s' "$_mp" | base64 -d) && [ -n "$_mp" ] || { pods_log "bad mount line"; return 1; }
    if [ "$_mt" = host ]; then
      mount_folder "$_ms" "$_mp" "$_mo" || return 1
      continue
    fi
    [ "$_mt" = disk ] || continue
    _i=0
    until find_disk "$_ms"; do # the block device may show up a moment after the agent starts
      _i=$((_i + 1))
      [ $_i -lt 100 ] || { pods_log "no disk with serial $_ms for $_mp"; return 1; }
      sleep 0.1
    done
    grep -q "^$DISK_DEV $_mp " /proc/mounts && continue
    if disk_blank "$DISK_DEV"; then
      pods_log "formatting the blank disk $DISK_DEV (ext4) for $_mp"
      mkfs.ext4 -q -F "$DISK_DEV" >&2 </dev/null || { pods_log "mkfs.ext4 $DISK_DEV failed"; return 1; }
    fi
    mkdir -p "$_mp" && mount -t ext4 "$DISK_DEV" "$_mp" || { pods_log "cannot mount $DISK_DEV on $_mp"; return 1; }
    pods_log "mounted $DISK_DEV ($_ms) on $_mp"
  done <"$W/spec/mounts"
}

# --------------------------------------------------------------------------------------- journals
# Each journal input is followed by its own session (setsid: stop ends it as a group): the follower (tail -F or
# journalctl -f) and a ticker feed one pipe; journal_pump batches the lines and posts each batch in the
# background, so neither the followed program nor the follower ever waits for the host. While a post is under
# way the next batch fills up to JOURNAL_MAX lines; lines beyond are dropped and counted, and the count travels
# with the next post (as do lines lost by a failed post).

JOURNAL_MAX=1000

start_journals() { # starts a follower per line of $W/spec/journals (once per boot)
  JOURNAL_PIDS=
  mkdir -p "$W/j" || return 0
  while read -r _jk _jt _js; do
    [ -n "$_jk" ] || continue
    # where following starts is taken now, so that no line the blocks write after this is missed
    if [ "$_jt" = systemd ]; then
      _j0=$(date +%s)
    else
      _j0=$(($(wc -c 2>/dev/null <"$(printf '%s' "$_js" | base64 -d)" || echo 0) + 1))
    fi
    setsid sh "$AGENT_SELF" journal "$_jk" "$_jt" "$_js" "$_j0" </dev/null >/dev/null 2>&1 7>&- 8>&- &
    JOURNAL_PIDS="$JOURNAL_PIDS $!"
  done <"$W/spec/journals"
}

journal_follow() { # KEY TYPE BASE64_SOURCE START: the follower of one input (started by start_journals in its
  # own session); START: for a file the byte to start at, for a systemd unit the time (epoch seconds)
  load_config || exit 2
  W=$PODS_RUN_DIR/work
  _src=$(printf '%s' "$3" | base64 -d) && [ -n "$_src" ] || exit 2
  _tick="pods-journal-tick-$(cut -c1-13 /proc/sys/kernel/random/uuid 2>/dev/null)-$$"
  {
    if [ "$2" = systemd ]; then
      journalctl -f -o cat --since "@$4" -u "$_src" 2>/dev/null &
    else
      tail -c "+$4" -F "$_src" 2>/dev/null &
    fi
    while sleep 0.2; do printf '%s\n' "$_tick" || break; done
  } | journal_pump "$1" "$_tick"
}

journal_pump() { # KEY TICK: batches stdin lines into $W/j/KEY.b; posts a batch on a tick, or when it is full,
  # unless a post is under way
  self_pid
  HTTP_TAG=j$1
  _jf=$W/j/$1.b _jn=0 _jd=0 _jq=0 _jp=
  : >"$_jf"
  while IFS= read -r _jl; do
    if [ "$_jl" != "$2" ]; then
      if [ $_jn -lt $JOURNAL_MAX ]; then
        printf '%s\n' "$_jl" >>"$_jf"
        _jn=$((_jn + 1))
      else
        _jd=$((_jd + 1))
      fi
      [ $_jn -ge $JOURNAL_MAX ] || continue # a full batch goes at once, others on the next tick
    fi
    own_child "$_jp" && continue
    [ -n "$_jp" ] && wait "$_jp"
    _jp=
    if [ -s "$_jf.lost" ]; then
      while read -r _jx; do _jd=$((_jd + _jx)); done <"$_jf.lost"
      rm -f "$_jf.lost"
    fi
    [ $_jn -gt 0 ] || [ $_jd -gt 0 ] || continue
    _jq=$((_jq + 1))
    mv "$_jf" "$_jf.$_jq" && : >"$_jf"
    journal_post "$1" "$_jf.$_jq" "$_jd" "$_jn" 7>&- 8>&- &
    _jp=$! _jn=0 _jd=0
  done
}

journal_post() { # KEY FILE DROPPED LINES: posts one batch; a failed post counts its lines as dropped
  self_pid
  http POST "/v1/journal/$1?dropped=$3" "$2.answer" "$2" 10 || echo "$4" >>"$W/j/$1.b.lost"
  rm -f "$2" "$2.answer"
}

# ------------------------------------------------------------------------------------------- main

agent_exit() {
  # a second TERM must not cut this short (the default action would orphan the children)
  trap '' TERM INT
  trap - EXIT
  stop "$HTTP_PID" "$HTTP_WD" "$NAP_PID" "$EXEC_LOOP_PID" "$SHIP_PID" "$SHIP2_PID" "$BLOCK_PID" "$WD_PID" \
    "$GUARD_PID" $JOURNAL_PIDS "$!"
  python_stop
  wait
  rm -rf "$PODS_RUN_DIR/lock"
}

agent_main() {
  load_config || exit 2
  mkdir -p "$PODS_RUN_DIR" "$PODS_STATE_DIR" || exit 2
  acquire_lock || exit 0
  W=$PODS_RUN_DIR/work
  MAIN_PID=$$
  EXEC_LOOP_PID= SHIP_PID= SHIP2_PID= BLOCK_PID= WD_PID= PY_PID= GUARD_PID= JOURNAL_PIDS= RUN_SEQ=0
  STATUS=initializing
  trap agent_exit EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  # WOKEN: for the waits that must go on after a wake-up; PENDING: for the main loop (nothing else clears it)
  trap 'WOKEN=1 PENDING=1' USR1
  # An agent restarted in the same boot (it died, its supervisor started it again) keeps what the boot phase
  # left: its result, the environment and directory carried to later blocks.
  _resume=
  if [ -f "$PODS_RUN_DIR/boot.done" ]; then
    read -r _resume _rseen <"$PODS_RUN_DIR/boot.done"
    mkdir -p "$PODS_RUN_DIR/keep" && cp "$W/env.sh" "$W/cwd" "$PODS_RUN_DIR/keep/" 2>/dev/null
  fi
  rm -rf "$W"
  mkdir -p "$W/exec" "$W/guard" || exit 2
  mkfifo "$W/b.stdout.fifo" "$W/b.stderr.fifo" || exit 2
  BOOT_ID=$(cut -c1-8 /proc/sys/kernel/random/uuid 2>/dev/null || echo "$$")
  write_helpers
  install_cli
  init_carry
  if [ -n "$_resume" ] && [ -f "$PODS_RUN_DIR/keep/env.sh" ]; then
    mv "$PODS_RUN_DIR/keep/env.sh" "$PODS_RUN_DIR/keep/cwd" "$W/" 2>/dev/null
  fi
  guard_loop 7>&- 8>&- &
  GUARD_PID=$!
  pods_log "version $PODS_AGENT_VERSION, boot $BOOT_ID, metadata service $PODS_URL ($PODS_HTTP)${_resume:+, resumed}"

  _delay=0.2
  until fetch_spec; do
    [ "$HTTP_STATUS" = 401 ] && pods_log "token refused by the metadata service"
    nap $_delay
    _delay=1
  done
  # the poll loop starts once the hash this boot works from is known: from its first request on, it returns as
  # soon as the state differs (a change during the boot phase runs a reload right after it)
  _seen=$SPEC_HASH
  [ -n "$_resume" ] && _seen=${_rseen:-$SPEC_HASH}
  printf '%s\n' "$_seen" >"$W/seen"
  poll_loop 7>&- 8>&- &
  EXEC_LOOP_PID=$!
  if [ -n "$_resume" ]; then
    BOOT_OK=1
    [ "$_resume" = fault ] && BOOT_OK=0
    _seen=${_rseen:-$SPEC_HASH}
    set_status "$_resume"
  else
    if [ -f "$PODS_STATE_DIR/initialized" ] || [ "$SPEC_INIT" = 1 ]; then
      _trigger=reboot
    else
      _trigger=first_boot
    fi
    report status initializing
    BOOT_OK=0
    # storage before the blocks, journals from before they run (a resumed agent finds both in place: the mounts
    # stay, and the followers run in sessions of their own)
    if mount_storage && { start_journals; run_phase $_trigger; }; then
      BOOT_OK=1
      if [ $_trigger = first_boot ]; then
        printf '%s\n' "$SPEC_VERSION" >"$PODS_STATE_DIR/initialized.new" &&
          mv "$PODS_STATE_DIR/initialized.new" "$PODS_STATE_DIR/initialized"
      fi
      _st=running
    else
      pods_log "$_trigger phase failed; it runs again at the next boot"
      _st=fault
    fi
    _seen=$SPEC_HASH
    printf '%s %s\n' "$_st" "$_seen" >"$PODS_RUN_DIR/boot.done"
    set_status $_st
  fi
  printf '%s\n' "$_seen" >"$W/seen"

  # Level-triggered: wait for a state other than the last one handled; each reload takes the newest spec,
  # so changes that arrive during a reload coalesce into the next one, and reloads never overlap. The main loop
  # costs nothing while idle: it waits for its poll loop, which wakes it (USR1) when the state changed or when
  # the metadata service came back after a failure (perhaps a new one that missed the end of a phase: the
  # status is reported again).
  while :; do
    PENDING=
    _cur=
    { read -r _cur <"$W/state.hash"; } 2>/dev/null
    if [ -n "$_cur" ] && [ "$_cur" != "$_seen" ]; then
      if [ $BOOT_OK = 0 ]; then
        _seen=$_cur
      elif fetch_spec; then
        report status reloading
        if run_phase cluster_change; then
          set_status running
        else
          pods_log "reload failed; it runs again at the next change"
          set_status reload_fault
        fi
        _seen=$SPEC_HASH
      else
        nap 1
        continue
      fi
      printf '%s\n' "$_seen" >"$W/seen"
      continue
    fi
    _rs=
    { read -r _rs <"$W/resend"; } 2>/dev/null
    if [ "$_rs" = 1 ]; then
      printf '0\n' >"$W/resend"
      set_status "$STATUS"
    fi
    own_child "$EXEC_LOOP_PID" || { pods_log "the poll loop ended"; exit 1; }
    # a wake-up since the top of this iteration is not lost: the state is looked at again first
    [ -n "$PENDING" ] || wait "$EXEC_LOOP_PID"
  done
}

AGENT_SELF=$0
case ${0##*/} in
  pods | pci) [ "${1:-}" = get ] && shift; cli_get "$@" ;;
esac
case ${1:-run} in
  run) agent_main ;;
  get) shift; cli_get "$@" ;;
  journal) shift; journal_follow "$@" ;;
  version) echo "pods-agent $PODS_AGENT_VERSION" ;;
  *) printf 'usage: pods-agent.sh run | get +/kind/name/selector | version\n' >&2; exit 2 ;;
esac
