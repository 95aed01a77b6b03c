#!/usr/bin/env bash
# End-to-end replay benchmark: a capture of MESSAGES messages (the shared corpus generator) replayed
# through validation -> book -> CRM into a fresh SQLite database with durable commits, every FIX
# account mapped to a client so that CRM activity is written. Baselines in the same run: the same
# capture through `fixbridge validate` alone (read + parse + validate, no book), and through the
# book in memory (`book load --dry-run`). Median of RUNS runs; peak memory from /usr/bin/time.
#
#   tools/bench/replay-bench.sh FIXBRIDGE_RELEASE_BINARY [MESSAGES] [RUNS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_setup replay-bench.sh "$@"
# One client per FIX account of the corpus, KYC verified, so every fill is client activity.
{
  echo 'id,name,kyc_status,kyc_expiry,accounts'
  i=0
  while read -r a; do printf 'C-%05d,Client %d,verified,2099-12-31,%s\n' "$i" "$i" "$a"; i=$((i + 1)); done < "$work/accounts.txt"
} > "$work/clients.csv"
echo "corpus: $messages messages, $(du -m "$work/corpus.fix" | cut -f1) MB, $(($(wc -l < "$work/clients.csv") - 1)) client accounts"


declare -A secs mems cpus
for i in $(seq 1 "$runs"); do
  rm -f "$work"/r.sqlite*
  "$fixbridge" crm import --db "sqlite:$work/r.sqlite" "$work/clients.csv" >/dev/null
  read -r s m c < <(measure "$fixbridge" replay --quiet --db "sqlite:$work/r.sqlite" "$work/corpus.fix")
  secs[replay]+="$s "; mems[replay]+="$m "; cpus[replay]+="$c "
  read -r s m c < <(measure "$fixbridge" validate "$work/corpus.fix")
  secs[validate]+="$s "; mems[validate]+="$m "; cpus[validate]+="$c "
  rm -f "$work"/d.sqlite*
  read -r s m c < <(measure "$fixbridge" book load --quiet --dry-run --db "sqlite:$work/d.sqlite" "$work/corpus.fix")
  secs[dry]+="$s "; mems[dry]+="$m "; cpus[dry]+="$c "
done
"$fixbridge" replay --quiet --db "sqlite:$work/r.sqlite" "$work/corpus.fix" 2>/dev/null | head -1 >/dev/null || true
printf '%-42s %10s %14s %10s %12s\n' "case (median of $runs)" "seconds" "messages/s" "cpu s" "peak MB"
for k in replay validate dry; do
  s=$(echo ${secs[$k]} | tr ' ' '\n' | median)
  m=$(echo ${mems[$k]} | tr ' ' '\n' | median)
  c=$(echo ${cpus[$k]} | tr ' ' '\n' | median)
  label=$k
  case $k in
    replay) label="replay: validation+book+CRM, SQLite";;
    validate) label="baseline: validate only";;
    dry) label="baseline: book in memory (--dry-run)";;
  esac
  printf '%-42s %10s %14s %10s %12s\n' "$label" "$s" "$(awk -v n="$messages" -v s="$s" 'BEGIN{printf "%d", n/s}')" "$c" "$((m / 1024))"
done
