#!/usr/bin/env bash
# Interoperability check: FIXBridge against QuickFIX C++, in both directions, on 127.0.0.1.
#
#   tools/interop/run.sh FIXBRIDGE_BINARY   run FIXBridge against the QuickFIX peer
#   tools/interop/run.sh --self-test        run the QuickFIX peer against itself (checks the
#                                           peer, the settings files and this script)
#
# Scenario A: FIXBridge initiator (fixbridge session --orders 10) against a QuickFIX acceptor
#             that skips 5 sequence numbers after 3 orders and drops the connection after 6.
# Scenario B: QuickFIX initiator (10 orders, sequence gap after 4) against FIXBridge's
#             simulated venue (fixbridge venue).
#
# Prints one PASS/FAIL line per scenario and a summary; exits 1 if any scenario failed.
# Environment: KEEP_TMP=1 keeps the work directory (kept anyway when something failed);
# INTEROP_DATA_DICTIONARY overrides the FIX44.xml data dictionary.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
peer="$here/out/quickfix-peer"

if [ $# -ne 1 ]; then
  echo "usage: $0 FIXBRIDGE_BINARY | --self-test" >&2
  exit 2
fi
self_test=0
fixbridge=""
if [ "$1" = "--self-test" ]; then
  self_test=1
else
  case "$1" in
    */*) fixbridge="$(cd "$(dirname "$1")" 2>/dev/null && pwd)/$(basename "$1")" ;;
    *) fixbridge="$(command -v "$1" || true)" ;;
  esac
  if [ ! -f "$fixbridge" ] || [ ! -x "$fixbridge" ]; then
    echo "run.sh: $1 is not an executable" >&2
    exit 2
  fi
fi

dictionary="${INTEROP_DATA_DICTIONARY:-$repo/../shared/specs/quickfix/FIX44.xml}"
if [ ! -f "$dictionary" ]; then
  echo "run.sh: data dictionary not found: $dictionary (set INTEROP_DATA_DICTIONARY)" >&2
  exit 2
fi
dictionary="$(cd "$(dirname "$dictionary")" && pwd)/$(basename "$dictionary")"

"$here/build.sh" >&2 || { echo "run.sh: building the QuickFIX peer failed" >&2; exit 2; }

work="$(mktemp -d -t fixbridge-interop.XXXXXX)"
pids=()
started_pid=""
failed=0
passed=0

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 5 s, then SIGKILL
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

forget_pid() {  # forget_pid PID: drop a reaped process from the cleanup list
  local keep=() p
  for p in "${pids[@]+"${pids[@]}"}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]+"${keep[@]}"}")
}

start_bounded() {  # start_bounded SECONDS OUT ERR CMD...: start CMD in the background with a
  local seconds="$1" out="$2" err="$3"  # time limit; its pid goes to $started_pid
  shift 3
  timeout -k 5 "$seconds" "$@" > "$out" 2> "$err" &
  started_pid=$!
  pids+=("$started_pid")
}

run_bounded() {  # run_bounded SECONDS OUT ERR CMD...: run CMD with a time limit, return its status
  local rc
  start_bounded "$@"
  # Waiting on a background job (not a foreground one) lets INT/TERM traps run at once.
  wait "$started_pid"
  rc=$?
  forget_pid "$started_pid"
  return "$rc"
}

stop_bounded() {  # stop_bounded PID: stop a process from start_bounded
  stop_pid "$1"
  forget_pid "$1"
}

cleanup() {
  local pid
  for pid in "${pids[@]+"${pids[@]}"}"; do stop_pid "$pid"; done
  pids=()
  if [ "$failed" -eq 0 ] && [ -z "${KEEP_TMP:-}" ]; then
    rm -rf "$work"
  else
    echo "run.sh: logs kept in $work" >&2
  fi
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT
trap 'echo "run.sh: terminated" >&2; exit 143' TERM

free_port() {  # prints a TCP port on 127.0.0.1 that nothing listens on
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port i
  for i in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  return 1
}

is_listening() {  # is_listening PORT
  if command -v ss >/dev/null 2>&1; then
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

wait_listening() {  # wait_listening PORT PID SECONDS: 0 once PORT listens, 1 if PID died or time ran out
  local port="$1" pid="$2" tenths=$(( $3 * 10 )) i
  for i in $(seq 1 "$tenths"); do
    is_listening "$port" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

count_lines() {  # count_lines REGEX FILE
  grep -cE "$1" "$2" 2>/dev/null || true
}

write_settings() {  # write_settings FILE TYPE SENDER TARGET PORT DIR
  local file="$1" type="$2" sender="$3" target="$4" port="$5" dir="$6"
  mkdir -p "$dir/store" "$dir/log"
  {
    echo "[DEFAULT]"
    echo "ConnectionType=$type"
    echo "BeginString=FIX.4.4"
    echo "HeartBtInt=30"
    echo "FileStorePath=$dir/store"
    echo "FileLogPath=$dir/log"
    echo "StartTime=00:00:00"
    echo "EndTime=00:00:00"
    echo "UseDataDictionary=Y"
    echo "DataDictionary=$dictionary"
    echo "ResetOnLogon=N"
    echo "ReconnectInterval=1"
    echo
    echo "[SESSION]"
    echo "SenderCompID=$sender"
    echo "TargetCompID=$target"
    if [ "$type" = acceptor ]; then
      echo "SocketAcceptHost=127.0.0.1"
      echo "SocketAcceptPort=$port"
    else
      echo "SocketConnectHost=127.0.0.1"
      echo "SocketConnectPort=$port"
    fi
  } > "$file"
}

pass() { echo "PASS interop/$1"; passed=$(( passed + 1 )); }
fail() { echo "FAIL interop/$1"; failed=$(( failed + 1 )); }

join_reasons() {  # join_reasons REASON...: "first; second; ..."
  local out="$1"
  shift
  for r in "$@"; do out="$out; $r"; done
  printf '%s' "$out"
}

tail_of() {  # last lines of a file, on one line, for a FAIL reason
  tail -n "${2:-3}" "$1" 2>/dev/null | tr '\n' ' ' | cut -c1-300
}

# --- Scenario A: FIXBridge initiator <-> QuickFIX acceptor -------------------------------
scenario_a() {
  local dir="$work/A" port acceptor_pid rc reasons=()
  mkdir -p "$dir"
  port="$(free_port)" || { fail "A: no free port"; return; }
  write_settings "$dir/A.cfg" acceptor QFVENUE FIXBRIDGE "$port" "$dir/quickfix"
  write_settings "$dir/B.cfg" initiator FIXBRIDGE QFVENUE "$port" "$dir/fixbridge"

  start_bounded 300 "$dir/peer.out" "$dir/peer.err" \
    "$peer" acceptor "$dir/A.cfg" --gap-after 3 --drop-after 6
  acceptor_pid=$started_pid
  if ! wait_listening "$port" "$acceptor_pid" 10; then
    fail "A: QuickFIX acceptor did not listen on port $port: $(tail_of "$dir/peer.err")"
    stop_bounded "$acceptor_pid"
    return
  fi

  if [ "$self_test" -eq 1 ]; then
    run_bounded 90 "$dir/fixbridge.out" "$dir/fixbridge.err" \
      "$peer" initiator "$dir/B.cfg" --orders 10 --timeout 60
  else
    run_bounded 90 "$dir/fixbridge.out" "$dir/fixbridge.err" \
      "$fixbridge" session --config "$dir/B.cfg" --orders 10 --timeout 60
  fi
  rc=$?
  sleep 0.5  # let the peer print the logout
  stop_bounded "$acceptor_pid"

  local dups distinct logons fb_logons
  dups=$(count_lines '^DUP ' "$dir/peer.out")
  distinct=$(grep -E '^ORDER ' "$dir/peer.out" 2>/dev/null | sort -u | wc -l | tr -d ' ')
  logons=$(count_lines '^LOGON' "$dir/peer.out")
  fb_logons=$(count_lines '^LOGON' "$dir/fixbridge.out")
  [ "$rc" -eq 0 ] || reasons+=("initiator exited $rc ($(tail_of "$dir/fixbridge.out" 2) $(tail_of "$dir/fixbridge.err" 2))")
  grep -q '^DONE orders=10 fills=10' "$dir/fixbridge.out" || reasons+=("no 'DONE orders=10 fills=10' line")
  [ "$distinct" -eq 10 ] || reasons+=("peer saw $distinct distinct orders, expected 10")
  grep -q '^GAP ' "$dir/peer.out" || reasons+=("peer never skipped sequence numbers")
  grep -q '^DROP ' "$dir/peer.out" || reasons+=("peer never dropped the connection")
  [ "$logons" -ge 2 ] || reasons+=("peer saw $logons logon(s), expected >= 2 after the drop")
  if [ ${#reasons[@]} -gt 0 ] && grep -q '^REJECT' "$dir/peer.out"; then
    reasons+=("peer: $(grep -m1 '^REJECT' "$dir/peer.out")")
  fi

  if [ ${#reasons[@]} -eq 0 ]; then
    pass "A fixbridge-initiator->quickfix-acceptor: 10 orders filled across a sequence gap and a reconnect (peer logons=$logons, repeated ClOrdIDs=$dups, fixbridge LOGON lines=$fb_logons)"
  else
    fail "A: $(join_reasons "${reasons[@]}")"
  fi
}

# --- Scenario B: QuickFIX initiator <-> FIXBridge acceptor (venue) ------------------------
scenario_b() {
  local dir="$work/B" port venue_pid rc reasons=()
  mkdir -p "$dir"
  port="$(free_port)" || { fail "B: no free port"; return; }
  write_settings "$dir/V.cfg" acceptor FBVENUE QFCLIENT "$port" "$dir/fixbridge"
  write_settings "$dir/Q.cfg" initiator QFCLIENT FBVENUE "$port" "$dir/quickfix"

  if [ "$self_test" -eq 1 ]; then
    start_bounded 300 "$dir/fixbridge.out" "$dir/fixbridge.err" "$peer" acceptor "$dir/V.cfg"
  else
    start_bounded 300 "$dir/fixbridge.out" "$dir/fixbridge.err" "$fixbridge" venue --config "$dir/V.cfg"
  fi
  venue_pid=$started_pid
  if ! wait_listening "$port" "$venue_pid" 20; then
    fail "B: FIXBridge venue did not listen on port $port: $(tail_of "$dir/fixbridge.err")"
    stop_bounded "$venue_pid"
    return
  fi

  run_bounded 60 "$dir/peer.out" "$dir/peer.err" \
    "$peer" initiator "$dir/Q.cfg" --orders 10 --gap-after 4 --timeout 30
  rc=$?
  sleep 0.5
  stop_bounded "$venue_pid"

  local fb_logons
  fb_logons=$(count_lines '^LOGON' "$dir/fixbridge.out")
  [ "$rc" -eq 0 ] || reasons+=("QuickFIX initiator exited $rc ($(tail_of "$dir/peer.out" 1) $(tail_of "$dir/peer.err" 1))")
  grep -q '^DONE orders=10 fills=10' "$dir/peer.out" || reasons+=("no 'DONE orders=10 fills=10' line from the QuickFIX initiator")
  grep -q '^GAP ' "$dir/peer.out" || reasons+=("QuickFIX initiator never skipped sequence numbers")
  if [ ${#reasons[@]} -gt 0 ] && grep -q '^REJECT' "$dir/peer.out"; then
    reasons+=("peer: $(grep -m1 '^REJECT' "$dir/peer.out")")
  fi

  if [ ${#reasons[@]} -eq 0 ]; then
    pass "B quickfix-initiator->fixbridge-venue: 10 orders filled across a sequence gap (fixbridge LOGON lines=$fb_logons)"
  else
    fail "B: $(join_reasons "${reasons[@]}")"
  fi
}

[ "$self_test" -eq 1 ] && echo "run.sh: self-test, the QuickFIX peer stands in for FIXBridge" >&2
scenario_a
scenario_b
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
