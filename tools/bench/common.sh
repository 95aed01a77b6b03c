# Shared by the benchmark scripts (sourced): arguments, a work directory, the shared corpus and
# its FIX accounts, a timed run, and the median of a column of numbers.
#
#   source "$(dirname "$0")/common.sh"; bench_setup NAME "$@"
# sets root, fixbridge, messages, runs, work (removed on exit), writes $work/corpus.fix and
# $work/accounts.txt (one FIX Account(1) value per line, sorted).

bench_setup() {
  local name=$1; shift
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  fixbridge=${1:?usage: $name FIXBRIDGE_BINARY [MESSAGES] [RUNS]}
  messages=${2:-1000000}
  runs=${3:-3}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  python3 "$root/../shared/bench/gen_fix_corpus.py" --count "$messages" --seed 42 --version 4.4 -o "$work/corpus.fix"
  python3 - "$work" <<'PY'
import re, sys
w = sys.argv[1]
accounts = sorted(set(re.findall(rb'\x011=([^\x01]+)\x01', open(w + '/corpus.fix', 'rb').read())))
with open(w + '/accounts.txt', 'w') as f:
    f.writelines(a.decode() + '\n' for a in accounts)
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Runs the command (its output discarded); prints "seconds peak_kb cpu_seconds" from
# /usr/bin/time (cpu = user + system: steadier than wall time on a shared host, and the measure
# of the work when the stages of a load share two cores).
measure() {
  { /usr/bin/time -f "TIME %e %M %U %S" "$@" >/dev/null 2>"$work/err"; } 2>&1 || true
  grep '^TIME' "$work/err" | tail -1 | awk '{printf "%s %s %.2f\n", $2, $3, $4 + $5}'
}
