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
# interrupts a long poll at once. wget's time limit is a watchdog of ours, not busybox timeout: a timeout
# signalled while it forks its watcher leaves that watcher watching pid 1, which it signals when time is up.
http() {
  _hm=$1 _hp=$2 _ho=$3 _hb=${4:-} _ht=${5:-30}
  rm -f "$_ho"
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
      wait "$HTTP_PID"
      HTTP_PID=
      HTTP_STATUS=$(cat "$_ho.st" 2>/dev/null)
      rm -f "$_ho.st"
      [ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
      ;;
    *)
      if [ "$_hm" = POST ]; then set -- --post-file "$_hb"; else set --; fi
      wget -q -Y off -O "$_ho" --header "X-Pods-Token: $PODS_TOKEN" \
        "$@" "$PODS_URL$_hp" 2>"$_ho.err" 7>&- 8>&- &
      HTTP_PID=$!
      start_watchdog "$_ht" "$HTTP_PID" /dev/null
      HTTP_WD=$WD_NEW
      if wait "$HTTP_PID"; then
        HTTP_STATUS=200
      else
        HTTP_STATUS=$(sed -n 's/.*HTTP\/1\.[01] \([0-9][0-9][0-9]\).*/\1/p' "$_ho.err" | head -n 1)
        [ -n "$HTTP_STATUS" ] || HTTP_STATUS=000
      fi
      stop "$HTTP_WD"
      HTTP_WD= HTTP_PID=
      rm -f "$_ho.err"
      ;;
  esac
  case $HTTP_STATUS in 2??) return 0 ;; *) return 1 ;; esac
}

post() { # PATH [BODYFILE]: a POST whose answer is not needed
  http POST "$1" "$W/http.$HTTP_TAG" "${2:-}" 10 || pods_log "POST ${1%%\?*} failed (HTTP $HTTP_STATUS)"
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

own_child() { # PID: a child of this shell that is neither dead nor a zombie (so the pid is not reused)
  [ -n "$1" ] || return 1
  { read -r _oc <"/proc/$1/stat"; } 2>/dev/null || return 1
  _oc=${_oc##*) }
  case ${_oc%% *} in Z | X) return 1 ;; esac
  _oc=${_oc#* }
  [ "${_oc%% *}" = "$SELF" ]
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

start_watchdog() { # SECONDS PID MARKER -> WD_NEW: after SECONDS, mark, then TERM (KILL 2 s later) PID's group or PID
  # Its own session and process group, and no trap: stop's group TERM ends the shell and its sleep together
  # (a trap that killed the sleep by pid lost the TERM when it came before the sleep's exec, and the sleep
  # then outlived the agent for the whole timeout).
  setsid sh -c 'sleep "$1" || exit 0
    : >"$3"; kill -TERM -"$2" 2>/dev/null || kill -TERM "$2" 2>/dev/null
    sleep 2 || exit 0
    kill -KILL -"$2" 2>/dev/null || kill -KILL "$2" 2>/dev/null' sh "$1" "$2" "$3" \
    </dev/null >/dev/null 2>&1 7>&- 8>&- &
  WD_NEW=$!
}

stop_watchdog() {
  stop "$WD_PID"
  WD_PID=
}

ship_one() { # STREAM FILE OFFSETVAR: posts the new bytes of FILE; returns 0 when it sent some
  eval "_so=\$$3"
  _sz=$(($(wc -c <"$2")))
  [ "$_sz" -gt "$_so" ] || return 1
  _sn=$((_sz - _so))
  [ "$_sn" -le 1048576 ] || _sn=1048576
  tail -c +$((_so + 1)) "$2" | head -c "$_sn" >"$W/ship.chunk"
  _sn=$(($(wc -c <"$W/ship.chunk")))
  if http POST "$SHIP_BASE?stream=$1&offset=$_so" "$W/http.ship" "$W/ship.chunk" 10; then
    eval "$3=\$((_so + _sn))"
    return 0
  fi
  return 1
}

ship_loop() { # streams $W/b.out and $W/b.err as they grow, until $W/b.stop exists and all is sent
  HTTP_TAG=ship
  self_pid
  trap 'trap "" TERM; stop "$HTTP_PID" "$HTTP_WD" "$!"; exit 0' TERM
  _oo=0 _eo=0 _idle=0
  while :; do
    _last=0
    [ -e "$W/b.stop" ] && _last=1
    _sent=0
    ship_one stdout "$W/b.out" _oo && _sent=1
    ship_one stderr "$W/b.err" _eo && _sent=1
    if [ $_last = 1 ]; then
      [ $_sent = 1 ] || break
      continue
    fi
    if [ $_sent = 1 ]; then _idle=0; else _idle=$((_idle + 1)); fi
    if [ $_idle -lt 25 ]; then sleep 0.02; else sleep 0.1; fi
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
  rm -f "$W/b.stop" "$W/b.rc" "$W/b.timedout"
  post "/v1/runs/$_r/blocks/$_i/start"
  SHIP_BASE=/v1/runs/$_r/blocks/$_i/output
  ship_loop 7>&- 8>&- &
  SHIP_PID=$!
  BLOCK_TIMED_OUT=false
  if [ "$_lang" = python ]; then
    [ -n "$PY_PID" ] || python_start || { BLOCK_RC=127; pods_log "cannot start $PODS_PYTHON"; }
    if [ -n "$PY_PID" ]; then
      start_watchdog $((_tmo + 5)) "$PY_PID" "$W/b.timedout"
      WD_PID=$WD_NEW
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$W/spec/$_i.src" "$W/b.out" "$W/b.err" "$W/env.sh" "$W/cwd" "$_tmo" >&7
      if read -r BLOCK_RC <&8; then :; else
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
    start_watchdog "$_tmo" "$BLOCK_PID" "$W/b.timedout"
    WD_PID=$WD_NEW
    wait "$BLOCK_PID"
    _w=$?
    stop_watchdog
    BLOCK_PID=
    BLOCK_RC=$(cat "$W/b.rc" 2>/dev/null)
    [ -n "$BLOCK_RC" ] || BLOCK_RC=$_w
    if [ -e "$W/b.timedout" ]; then
      BLOCK_TIMED_OUT=true
      BLOCK_RC=124
      printf 'pods-agent: block %s timed out after %s s\n' "$_i" "$_tmo" >>"$W/b.err"
    fi
  fi
  : >"$W/b.stop"
  wait "$SHIP_PID"
  SHIP_PID=
  post "/v1/runs/$_r/blocks/$_i/end?exit=$BLOCK_RC&timedOut=$BLOCK_TIMED_OUT"
  [ "$BLOCK_RC" = 0 ]
}

run_phase() { # TRIGGER: runs the selected blocks of $W/spec in order; returns 0 when all succeeded
  RUN_SEQ=$((RUN_SEQ + 1))
  _run=$BOOT_ID-$RUN_SEQ
  _sel=$(awk -v t="$1" '
    t == "first_boot" || (t == "reboot" && $3 != "initial") || (t == "cluster_change" && $3 == "reload") {
      printf "%s%s", sep, $1; sep = ","
    }' "$W/spec/blocks")
  post "/v1/runs/$_run/start?trigger=$1&version=$SPEC_VERSION&hash=$SPEC_HASH&blocks=$_sel"
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
  if [ -z "$_failed" ]; then
    post "/v1/runs/$_run/end?ok=true"
    return 0
  fi
  post "/v1/runs/$_run/end?ok=false&failedBlock=$_failed&exit=$BLOCK_RC"
  return 1
}

set_status() { # STATUS: reports it; STATUS_SENT=0 when it did not arrive (the main loop sends it again)
  STATUS=$1
  if http POST "/v1/status?status=$1" "$W/http.$HTTP_TAG" "" 10; then
    STATUS_SENT=1
  else
    STATUS_SENT=0
    pods_log "POST /v1/status failed (HTTP $HTTP_STATUS)"
  fi
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
  (cd "$PODS_WORKDIR" 2>/dev/null || cd /; exec setsid "$@") <"$_in" >"$_d/out" 2>"$_d/err" &
  _ep=$!
  echo "$_ep" >"$_d/pid"
  start_watchdog "${_tmo:-60}" "$_ep" "$_d/timedout"
  WD_PID=$WD_NEW
  wait "$_ep"
  _rc=$?
  stop_watchdog
  _to=false
  [ -e "$_d/timedout" ] && { _to=true; _rc=124; }
  cat "$_d/out" "$_d/err" >"$_d/result"
  post "/v1/exec/$_eid/result?exit=$_rc&timedOut=$_to&stdoutBytes=$(($(wc -c <"$_d/out")))" "$_d/result"
  rm -rf "$_d"
}

exec_loop() { # long-polls /v1/exec/next and starts each request in the background
  HTTP_TAG=execloop
  self_pid
  RUNNERS=
  trap 'exec_loop_exit' TERM INT
  while :; do
    if http GET "/v1/exec/next?wait=$PODS_POLL_WAIT" "$W/exec.next" "" $((PODS_POLL_WAIT + 10)); then
      _id=$(sed -n 's/^id //p' "$W/exec.next" 2>/dev/null)
      if [ -n "$_id" ]; then
        mkdir -p "$W/exec/$_id"
        mv "$W/exec.next" "$W/exec/$_id/req"
        run_exec "$_id" &
        _live=$!
        for _p in $RUNNERS; do own_child "$_p" && _live="$_live $_p"; done
        RUNNERS=$_live
      fi
    elif [ "$HTTP_STATUS" = 401 ]; then
      nap 5
    else
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
  stop "$HTTP_PID" "$HTTP_WD" "$NAP_PID" "$EXEC_LOOP_PID" "$SHIP_PID" "$BLOCK_PID" "$WD_PID" $JOURNAL_PIDS "$!"
  python_stop
  wait
  rm -rf "$PODS_RUN_DIR/lock"
}

agent_main() {
  load_config || exit 2
  mkdir -p "$PODS_RUN_DIR" "$PODS_STATE_DIR" || exit 2
  acquire_lock || exit 0
  W=$PODS_RUN_DIR/work
  EXEC_LOOP_PID= SHIP_PID= BLOCK_PID= WD_PID= PY_PID= JOURNAL_PIDS= RUN_SEQ=0 STATUS=initializing STATUS_SENT=1
  trap agent_exit EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  rm -rf "$W"
  mkdir -p "$W/exec" || exit 2
  BOOT_ID=$(cut -c1-8 /proc/sys/kernel/random/uuid 2>/dev/null || echo "$$")
  write_helpers
  install_cli
  init_carry
  exec_loop 7>&- 8>&- &
  EXEC_LOOP_PID=$!
  pods_log "version $PODS_AGENT_VERSION, boot $BOOT_ID, metadata service $PODS_URL ($PODS_HTTP)"

  _delay=0.2
  until fetch_spec; do
    [ "$HTTP_STATUS" = 401 ] && pods_log "token refused by the metadata service"
    nap $_delay
    _delay=1
  done
  if [ -f "$PODS_STATE_DIR/initialized" ] || [ "$SPEC_INIT" = 1 ]; then
    _trigger=reboot
  else
    _trigger=first_boot
  fi
  set_status initializing
  BOOT_OK=0
  if mount_storage && { start_journals; run_phase $_trigger; }; then
    BOOT_OK=1
    if [ $_trigger = first_boot ]; then
      printf '%s\n' "$SPEC_VERSION" >"$PODS_STATE_DIR/initialized.new" &&
        mv "$PODS_STATE_DIR/initialized.new" "$PODS_STATE_DIR/initialized"
    fi
    set_status running
  else
    pods_log "$_trigger phase failed; it runs again at the next boot"
    set_status fault
  fi

  # Level-triggered: wait for a state other than the last one handled; each reload takes the newest spec,
  # so changes that arrive during a reload coalesce into the next one, and reloads never overlap.
  # A metadata service that vanished (its runtime restarted) may come back as a new one that missed the end of
  # a phase: after a failed poll, the status is reported again (and whenever its last report did not arrive).
  _seen=$SPEC_HASH
  _delay=1
  while :; do
    [ "$STATUS_SENT" = 1 ] || set_status "$STATUS"
    if ! http GET "/v1/state?hash=$_seen&wait=$PODS_POLL_WAIT" "$W/state.txt" "" $((PODS_POLL_WAIT + 10)); then
      STATUS_SENT=0
      nap $_delay
      _delay=2
      continue
    fi
    _delay=1
    _cur=$(sed -n 's/^hash //p' "$W/state.txt")
    [ -n "$_cur" ] && [ "$_cur" != "$_seen" ] || continue
    if [ $BOOT_OK = 0 ]; then
      _seen=$_cur
      continue
    fi
    fetch_spec || continue
    set_status reloading
    if run_phase cluster_change; then
      set_status running
    else
      pods_log "reload failed; it runs again at the next change"
      set_status reload_fault
    fi
    _seen=$SPEC_HASH
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
