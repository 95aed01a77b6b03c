#!/usr/bin/env bash
# Reconciliation benchmark: generates a day of N fills and a statement of N lines with seeded
# breaks, reconciles them with the release build, and runs the DuckDB exact-key join on the same
# files as the baseline.
#
#     tools/bench/recon/run.sh [N] [WORKDIR]        (N defaults to 1000000)
#
# Needs python3 and `pip install duckdb` for the baseline; without DuckDB it skips the baseline.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
n="${1:-1000000}"
work="${2:-${TMPDIR:-/tmp}/recon-bench-$n}"
mkdir -p "$work"
if [ ! -f "$work/expected.csv" ]; then
    echo "generating $n fills into $work"
    python3 "$here/gen.py" "$n" "$work"
fi
swift build -c release --package-path "$here" --scratch-path "${SCRATCH:-$here/.build}" --product recon-bench >/dev/null
bin="$(swift build -c release --package-path "$here" --scratch-path "${SCRATCH:-$here/.build}" --show-bin-path)/recon-bench"
mapping="$here/../../../Specs/mappings/venue-daily-trades.ini"
echo "== FIXBridge Reconciliation, N=$n"
/usr/bin/time -f "process wall %e s, max RSS %M KB" "$bin" "$work" "$mapping"
if python3 -c "import duckdb" 2>/dev/null; then
    echo "== DuckDB baseline, N=$n"
    /usr/bin/time -f "process wall %e s, max RSS %M KB" python3 "$here/duckdb_baseline.py" "$work" "${THREADS:-2}"
else
    echo "DuckDB not installed (pip install duckdb): baseline skipped"
fi
