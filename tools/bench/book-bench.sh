#!/usr/bin/env bash
# Book load benchmark: execution reports per second from a capture into the SQLite book with
# durable commits (synchronous=FULL, one transaction per batch), the same capture applied to the
# in-memory book only (--dry-run) as the same-run baseline, and into PostgreSQL when
# FIXBRIDGE_BENCH_POSTGRES_URL is set. Peak memory from /usr/bin/time. Median of RUNS runs.
#
#   tools/bench/book-bench.sh FIXBRIDGE_RELEASE_BINARY [MESSAGES] [RUNS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_setup book-bench.sh "$@"
{ echo 'fix_account,client_account'; sed 's/.*/&,CL-&/' "$work/accounts.txt"; } > "$work/accounts.csv"
reports=$(python3 -c "import sys; print(open(sys.argv[1],'rb').read().count(b'\x0135=8\x01'))" "$work/corpus.fix")
echo "corpus: $messages messages, $reports execution reports, $(du -m "$work/corpus.fix" | cut -f1) MB"

run_case() {  # label db-maker
  local label=$1 kind=$2
  local times=() mems=() cpus=()
  for i in $(seq 1 "$runs"); do
    local db
    case $kind in
      dry) db="sqlite:$work/dry.sqlite"; rm -f "$work"/dry.sqlite*;;
      sqlite) db="sqlite:$work/book$i.sqlite"; rm -f "$work"/book$i.sqlite*;;
      postgres)
        local name="fixbridge_bench_${i}_$$"
        psql "$FIXBRIDGE_BENCH_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS fixbridge_bench_$i" >/dev/null
        psql "$FIXBRIDGE_BENCH_POSTGRES_URL" -qc "CREATE DATABASE fixbridge_bench_$i" >/dev/null
        db="${FIXBRIDGE_BENCH_POSTGRES_URL%/*}/fixbridge_bench_$i";;
    esac
    # The account map goes in first, outside the timed run.
    "$fixbridge" book accounts --db "$db" --import "$work/accounts.csv" >/dev/null
    local extra=()
    [ "$kind" = dry ] && extra=(--dry-run)
    read -r secs kb cpu < <(measure "$fixbridge" book load --quiet --db "$db" "${extra[@]}" "$work/corpus.fix")
    times+=("$secs"); mems+=("$kb"); cpus+=("$cpu")
  done
  local t m c
  t=$(printf '%s\n' "${times[@]}" | median)
  m=$(printf '%s\n' "${mems[@]}" | median)
  c=$(printf '%s\n' "${cpus[@]}" | median)
  python3 -c "
t=$t; r=$reports; m=$m; c=$c
print(f'$label: median {t:.2f} s  {r/t:,.0f} reports/s  cpu {c:.2f} s  peak {m/1024:,.0f} MB  (runs: ${times[*]})')"
  eval "result_$kind=$t"
}

run_case "in-memory book only (--dry-run, baseline)" dry
run_case "SQLite, durable commits" sqlite
if [ -n "${FIXBRIDGE_BENCH_POSTGRES_URL:-}" ]; then
  run_case "PostgreSQL" postgres
fi
python3 -c "print(f'SQLite load / in-memory baseline time ratio: {$result_sqlite/$result_dry:.2f}')"
