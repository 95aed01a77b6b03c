#!/usr/bin/env bash
# Builds one libFuzzer target and runs it.
#   tools/fuzz/run.sh framer [SECONDS]     # FIXTagValue framer, field reader and capture decoder
#   tools/fuzz/run.sh fast [SECONDS]       # FASTCodec decoder and stream framing
# The target's sources are compiled together with the module they exercise into one binary
# (swiftc -sanitize=fuzzer), so the fuzz entry point can reach internal API as well.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?usage: tools/fuzz/run.sh framer|fast [SECONDS]}
seconds=${2:-600}
case "$name" in
  framer) sources=(Sources/FIXTagValue/*.swift tools/fuzz/FramerFuzz.swift); seeds=tools/fuzz/seeds-framer ;;
  fast)   sources=(Sources/FASTCodec/*.swift tools/fuzz/FASTDecoderFuzz.swift); seeds=tools/fuzz/seeds-fast ;;
  *) echo "unknown fuzz target: $name" >&2; exit 2 ;;
esac
out=tools/fuzz/out
mkdir -p "$out" "tools/fuzz/corpus-$name"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name "Fuzz_$name" \
  "${sources[@]}" -o "$out/fuzz-$name"
"$out/fuzz-$name" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/" \
  "tools/fuzz/corpus-$name" "$seeds"
