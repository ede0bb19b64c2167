#!/usr/bin/env bash
# Time per query and peak memory of `attractor recall --stream-patterns` for N = 10^4 … 10^7 stored
# patterns of d = 64 (Docs/Benchmarks.md, "Memories that do not fit in memory").
#
# For each N: the seeded pattern file (Scripts/generate_patterns.py, into the git-ignored Data/),
# then the streamed recall with --max-steps 2 (--tolerance 0, so both steps run) under
# /usr/bin/time -v. It opens the file (one validation pass) and makes T + 1 = 3 passes over it; its
# report's "timing:" note gives the wall and CPU time of the passes, hence time per query per pass.
# Peak memory is /usr/bin/time's "Maximum resident set size". For N ≤ IN_MEMORY_MAX the in-memory
# path (no --stream-patterns) runs with --max-steps 0 and 2, and its time per query per step is
#     (time(T = 2) − time(T = 0)) / (2 B)        (wall, and user + system CPU),
# its JSON report compared with the streamed one (largest relative difference of the per-step metrics).
# Results: one JSON line per run in $OUT/runs.jsonl, then Scripts/bench_streaming_report.py writes
# the table ($OUT/streaming.md) and the log-log figure ($OUT/streaming.svg).
#
#   bash Scripts/bench_streaming.sh                       # N = 1e4 1e5 1e6 1e7, B = 256, 2 threads
#   COUNTS="10000 100000" THREADS=1 bash Scripts/bench_streaming.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/attractor}
COUNTS=${COUNTS:-"10000 100000 1000000 10000000"}
QUERIES=${QUERIES:-256}
THREADS=${THREADS:-2}
IN_MEMORY_MAX=${IN_MEMORY_MAX:-1000000}
OUT=${OUT:-report-bench-streaming}
mkdir -p "$OUT"
: > "$OUT/runs.jsonl"
[ -x "$BIN" ] || { echo "build first: swift build -c release --product attractor" >&2; exit 1; }

run() {  # path-kind N steps extra-args…
  local kind=$1 n=$2 steps=$3; shift 3
  local file="Data/patterns-n$n-d64.npy"
  local json="$OUT/$kind-n$n-t$steps.json" timing="$OUT/$kind-n$n-t$steps.time"
  /usr/bin/time -v "$BIN" recall --patterns "$file" --query-count "$QUERIES" --max-steps "$steps" --tolerance 0 \
    --precision float --threads "$THREADS" --json "$@" > "$json" 2> "$timing"
  local wall rss load cpu
  wall=$(grep "Elapsed (wall clock)" "$timing" | awk '{print $NF}' | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$timing")
  rss=$(grep "Maximum resident set size" "$timing" | awk '{print $NF}')
  load=$(cut -d' ' -f1 /proc/loadavg)
  printf '{"kind": "%s", "count": %s, "steps": %s, "queries": %s, "threads": %s, "wall": %s, "cpu": %s, "maxRSSKiB": %s, "load": %s, "report": "%s"}\n' \
    "$kind" "$n" "$steps" "$QUERIES" "$THREADS" "$wall" "$cpu" "$rss" "$load" "$json" >> "$OUT/runs.jsonl"
  echo "$kind N=$n T=$steps: ${wall} s wall, ${cpu} s CPU, max RSS ${rss} KiB (load $load)"
}

for n in $COUNTS; do
  [ -f "Data/patterns-n$n-d64.npy" ] || python3 Scripts/generate_patterns.py --count "$n" --dimension 64
  # Streamed and in-memory alternate.
  [ "$n" -le "$IN_MEMORY_MAX" ] && run in-memory "$n" 0
  run streamed "$n" 2 --stream-patterns
  [ "$n" -le "$IN_MEMORY_MAX" ] && run in-memory "$n" 2
done
python3 Scripts/bench_streaming_report.py "$OUT"
