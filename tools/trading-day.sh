#!/usr/bin/env bash
# The shipped trading day, end to end on the embedded SQLite database:
# clients and KYC -> book -> reconciliation -> CRM.
#
#   tools/trading-day.sh [--out DIR] [--record]   (default var/trading-day; wiped and recreated)
#
# Input: Captures/day-20240315/ (see its README.md), recorded from the simulated venue by
# fixbridge venue record --scenario Specs/scenarios/day-20240315.txt; --record records it again
# first (the same bytes). Output in DIR: backoffice.sqlite, replay.txt (what the replay changed:
# the same text on every run, Captures/golden/day-20240315-replay.txt) and reconciliation.html.
# The terminal gets each step's output and a final summary.
set -euo pipefail

cd "$(dirname "$0")/.."
out=var/trading-day
record=no
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --out=*) out="${1#--out=}"; shift ;;
        --record) record=yes; shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "trading-day.sh: unknown argument $1 (usage: tools/trading-day.sh [--out DIR] [--record])" >&2; exit 64 ;;
    esac
done

day=Captures/day-20240315
date=2024-03-15
expired_client=C-2004

swift build --product fixbridge >/dev/null 2>&1 || swift build --product fixbridge
fixbridge=.build/debug/fixbridge

if [ "$record" = yes ]; then
    printf '\n== %s\n' "record: venue record --scenario Specs/scenarios/day-20240315.txt --out $day"
    "$fixbridge" venue record --scenario Specs/scenarios/day-20240315.txt --out "$day"
fi

case "$out" in ""|/|.|..) echo "trading-day.sh: refusing to wipe '$out'" >&2; exit 64 ;; esac
rm -rf -- "$out"
mkdir -p -- "$out"
db="sqlite:$out/backoffice.sqlite"

step() { printf '\n== %s\n' "$*"; }

step "clients and KYC: crm import $day/clients.csv"
"$fixbridge" crm import --db "$db" "$day/clients.csv"

# crm import also gives the book its account map: each account's FIX Account(1) values, and an
# account listed alone is its own FIX account.
step "replay: validation -> book -> CRM: replay $day/venue-BRKR.fix"
"$fixbridge" replay --db "$db" --quiet "$day/venue-BRKR.fix" | tee "$out/replay.txt"

step "positions"
"$fixbridge" book positions --db "$db"

step "exceptions"
"$fixbridge" book exceptions --db "$db"

step "reconciliation $date: statement and drop copy"
set +e
"$fixbridge" reconcile --db "$db" --date "$date" \
    --statement "$day/statement-clearing.csv" --mapping Specs/mappings/venue-daily-trades.ini \
    --drop-copy "$day/dropcopy-SIMX.fix" --require-copy-flag \
    --tolerance-price 0.005 --tolerance-amount 0.01 \
    --format html --out "$out/reconciliation.html" | tee "$out/reconcile.txt"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "reconcile failed (exit $status)" >&2; exit "$status"; }

step "breaks"
"$fixbridge" breaks list --db "$db" --date "$date"

step "CRM: crm client $expired_client (KYC expired, traded today)"
"$fixbridge" crm client --db "$db" "$expired_client"

step "CRM outbox"
"$fixbridge" crm outbox --db "$db" --limit 0 | sed -n 1p | tee "$out/outbox.txt"

# Summary ---------------------------------------------------------------------------------------
fills=$(sed -n 's/^fills booked: *\([0-9]*\).*/\1/p' "$out/replay.txt")
dups=$(sed -n 's/.*duplicates skipped \([0-9]*\).*/\1/p' "$out/replay.txt")
exceptions=$("$fixbridge" book exceptions --db "$db" --format csv | tail -n +2 | grep -c . || true)
positions=$("$fixbridge" book positions --db "$db" --format csv | tail -n +2 | grep -c . || true)
breaks=$("$fixbridge" breaks list --db "$db" --date "$date" --format csv | tail -n +2 | grep -c . || true)
by_code=$("$fixbridge" breaks list --db "$db" --date "$date" --format csv \
    | python3 -c 'import csv,sys,collections
rows = list(csv.DictReader(sys.stdin))
c = collections.Counter((int(r["code"]), r["type"]) for r in rows)
print(", ".join("%d %s x%d" % (k[0], k[1], n) for k, n in sorted(c.items())))')
entries=$(sed -n 's/.*pending \([0-9]*\).*/\1/p' "$out/outbox.txt")

step "summary"
echo "fills booked:        $fills (resent duplicates skipped: $dups)"
echo "positions:           $positions"
echo "book exceptions:     $exceptions"
echo "breaks found:        $breaks ($by_code)"
echo "CRM entries written: ${entries:-0} (queued for the crm webhook)"
echo "report:              $out/reconciliation.html"
