#!/usr/bin/env bash
# Session round-trip benchmark on loopback, FIXBridge against QuickFIX C++ in the same run.
#
#   tools/bench/session-bench.sh FIXBRIDGE_RELEASE_BINARY [ORDERS]
#
# Each pair runs an acceptor that answers every NewOrderSingle with two ExecutionReports (New,
# then Fill) and an initiator that sends ORDERS orders at once and waits for every fill, both
# with a file store. Sustained throughput = orders / elapsed (3 messages per order). The
# order->fill round trip p50/p99 of both engines is measured with one order in flight at a
# time. The QuickFIX peer runs with --quiet (no line printed per message).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fixbridge=${1:?usage: session-bench.sh FIXBRIDGE_BINARY [ORDERS]}
orders=${2:-20000}
# QUICKFIX_MODE=threaded (the default) runs QuickFIX as its applications usually do: start(),
# its own thread blocking in select(), the initiator sending from its callbacks, as FIXBridge's
# `session --orders` sends from its callbacks on the event loop. QUICKFIX_MODE=poll drives it
# with poll() from the main thread instead, which in QuickFIX 1.15 never waits: it spins on a
# core (fastest on an idle host, starved on a busy one).
case "${QUICKFIX_MODE:-threaded}" in
  threaded) qf_mode=--threaded ;;
  poll) qf_mode= ;;
  *) echo "QUICKFIX_MODE must be threaded or poll" >&2; exit 2 ;;
esac
bash "$root/tools/interop/build.sh" >/dev/null
peer="$root/tools/interop/out/quickfix-peer"
dict="$root/../shared/specs/quickfix/FIX44.xml"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }

settings() {  # type sender target port dir
  cat <<CFG
[DEFAULT]
ConnectionType=$1
BeginString=FIX.4.4
HeartBtInt=30
StartTime=00:00:00
EndTime=00:00:00
FileStorePath=$5/store
UseDataDictionary=Y
DataDictionary=$dict
ReconnectInterval=1
ResetOnLogon=Y
[SESSION]
SenderCompID=$2
TargetCompID=$3
SocketConnectHost=127.0.0.1
SocketConnectPort=$4
SocketAcceptPort=$4
CFG
}

wait_port() { for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# FIXBridge pair
port=$(free_port); mkdir -p "$work/fa" "$work/fi"
settings acceptor FBV FBI "$port" "$work/fa" > "$work/fa.cfg"
settings initiator FBI FBV "$port" "$work/fi" > "$work/fi.cfg"
"$fixbridge" venue --config "$work/fa.cfg" --fills-per-order 1 > "$work/fa.out" 2>&1 & pids+=($!)
wait_port "$port"
start=$(now_ns)
"$fixbridge" session --config "$work/fi.cfg" --orders "$orders" --timeout 300 > "$work/fi.out" 2>&1
fb_ns=$(( $(now_ns) - start ))
grep -q "DONE orders=$orders" "$work/fi.out" || { cat "$work/fi.out"; echo "FIXBridge run failed" >&2; exit 1; }
rm -rf "$work/fi/store"
"$fixbridge" session --config "$work/fi.cfg" --orders 2000 --window 1 --timeout 300 > "$work/fl.out" 2>&1 || true
latency=$(grep "round trip" "$work/fl.out" | tail -1 || true)
kill "${pids[-1]}" 2>/dev/null || true

# QuickFIX pair
port=$(free_port); mkdir -p "$work/qa" "$work/qi"
settings acceptor QFV QFI "$port" "$work/qa" > "$work/qa.cfg"
settings initiator QFI QFV "$port" "$work/qi" > "$work/qi.cfg"
"$peer" acceptor "$work/qa.cfg" $qf_mode --quiet > "$work/qa.out" 2>&1 & pids+=($!)
wait_port "$port"
start=$(now_ns)
"$peer" initiator "$work/qi.cfg" --orders "$orders" --timeout 300 $qf_mode --quiet > "$work/qi.out" 2>&1
qf_ns=$(( $(now_ns) - start ))
grep -q "DONE orders=$orders" "$work/qi.out" || { tail -5 "$work/qi.out"; echo "QuickFIX run failed" >&2; exit 1; }
kill "${pids[-1]}" 2>/dev/null || true
# QuickFIX's latency pair with SocketNodelay=Y (its default is N, which costs it the 40 ms of
# Nagle's algorithm meeting delayed ACKs on every round trip; FIXBridge sets TCP_NODELAY by
# default). The throughput pair above keeps QuickFIX's defaults, its faster choice for bursts.
port=$(free_port); mkdir -p "$work/qla" "$work/qli"
settings acceptor QLV QLI "$port" "$work/qla" | sed 's/^\[SESSION\]/SocketNodelay=Y\n[SESSION]/' > "$work/qla.cfg"
settings initiator QLI QLV "$port" "$work/qli" | sed 's/^\[SESSION\]/SocketNodelay=Y\n[SESSION]/' > "$work/qli.cfg"
"$peer" acceptor "$work/qla.cfg" $qf_mode --quiet > "$work/qla.out" 2>&1 & pids+=($!)
wait_port "$port"
"$peer" initiator "$work/qli.cfg" --orders 2000 --window 1 --timeout 300 $qf_mode --quiet > "$work/ql.out" 2>&1 || true
qf_latency=$(grep "round trip" "$work/ql.out" | tail -1 || true)

python3 - "$orders" "$fb_ns" "$qf_ns" "$latency" "$qf_latency" <<'PY'
import sys
orders, fb, qf, latency, qf_latency = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
fb_rate, qf_rate = orders / (fb / 1e9), orders / (qf / 1e9)
print(f"orders: {orders} (3 messages each), wall time including logon and logout")
print(f"FIXBridge: {fb/1e9:.2f} s, {fb_rate:,.0f} orders/s, {3*fb_rate:,.0f} messages/s")
print(f"QuickFIX:  {qf/1e9:.2f} s, {qf_rate:,.0f} orders/s, {3*qf_rate:,.0f} messages/s")
print(f"ratio FIXBridge/QuickFIX throughput: {fb_rate/qf_rate:.2f}")
print(f"FIXBridge {latency}")
print(f"QuickFIX  {qf_latency}")
PY
