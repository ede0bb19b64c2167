#!/usr/bin/env bash
# Time and peak memory of `attractor compare` on a streamed dataset ({"kind": "npy", "stream": true})
# for N = 10^4 … 10^7 stored patterns of d = 64 (Docs/Benchmarks.md, "Memories that do not fit in
# memory", the `compare` rows), the sibling of Scripts/bench_streaming.sh (which times `recall`).
#
# For each N: the seeded pattern file (Scripts/generate_patterns.py, into the git-ignored Data/),
# a study file ($OUT/study-<path>-n<N>.json: one modern network β = $BETA, noise σ = $NOISE, one
# seed, B = $QUERIES queries, T = 1 and 2, tolerance 0 so both steps run on every query), then
# `attractor compare --workers 1 --threads $THREADS` under /usr/bin/time -v. For N ≤ IN_MEMORY_MAX
# the same study without "stream" (the file loaded into memory) runs too, alternating, and
# Scripts/compare_study_runs.py compares its cells with the streamed ones. `compare print-study
# --study` on the streamed study (which checks it: the opening pass over the file, no cell) runs
# under /usr/bin/time too, so that the CPU time of the cell's T + 1 = 3 passes is the difference
#     CPU(compare) − CPU(print-study)         (user + system, all threads)
# Results: one JSON line per run in $OUT/runs.jsonl, then Scripts/bench_streaming_study_report.py
# writes the table ($OUT/streaming-study.md).
#
#   bash Scripts/bench_streaming_study.sh                      # N = 1e4 1e5 1e6 1e7, B = 128, 2 threads
#   COUNTS="10000 100000" THREADS=1 bash Scripts/bench_streaming_study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/attractor}
COUNTS=${COUNTS:-"10000 100000 1000000 10000000"}
QUERIES=${QUERIES:-128}
THREADS=${THREADS:-2}
BETA=${BETA:-16}
NOISE=${NOISE:-0.05}
IN_MEMORY_MAX=${IN_MEMORY_MAX:-1000000}
OUT=${OUT:-report-bench-streaming-study}
mkdir -p "$OUT"
: > "$OUT/runs.jsonl"
[ -x "$BIN" ] || { echo "build first: swift build -c release --product attractor" >&2; exit 1; }

run() {  # path-kind N [open]
  local kind=$1 n=$2 mode=${3:-run}
  local file="$PWD/Data/patterns-n$n-d64.npy"
  local study="$OUT/study-$kind-n$n.json" folder="$OUT/$kind-n$n" timing="$OUT/$kind-n$n-$mode.time"
  local stream=""
  [ "$kind" = streamed ] && stream=', "stream": true'
  cat > "$study" <<EOF
{
  "name": "streamed compare, N = $n", "queries": $QUERIES, "steps": [1, 2], "seeds": [0], "tolerance": 0,
  "precision": "float",
  "models": [{"model": "modern", "beta": $BETA}],
  "datasets": [{"kind": "npy", "path": "$file", "label": "N=$n"$stream}],
  "corruptions": [{"kind": "noise", "levels": [$NOISE]}]
}
EOF
  if [ "$mode" = open ]; then
    /usr/bin/time -v "$BIN" compare print-study --study "$study" > /dev/null 2> "$timing"
  else
    rm -rf "$folder"
    /usr/bin/time -v "$BIN" compare --study "$study" --output-dir "$folder" --workers 1 --threads "$THREADS" --quiet \
      > "$OUT/$kind-n$n.out" 2> "$timing"
  fi
  local wall rss load cpu
  wall=$(grep "Elapsed (wall clock)" "$timing" | awk '{print $NF}' | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$timing")
  rss=$(grep "Maximum resident set size" "$timing" | awk '{print $NF}')
  load=$(cut -d' ' -f1 /proc/loadavg)
  printf '{"kind": "%s", "mode": "%s", "count": %s, "queries": %s, "threads": %s, "wall": %s, "cpu": %s, "maxRSSKiB": %s, "load": %s, "folder": "%s"}\n' \
    "$kind" "$mode" "$n" "$QUERIES" "$THREADS" "$wall" "$cpu" "$rss" "$load" "$folder" >> "$OUT/runs.jsonl"
  echo "$kind $mode N=$n: ${wall} s wall, ${cpu} s CPU, max RSS ${rss} KiB (load $load)"
}

for n in $COUNTS; do
  [ -f "Data/patterns-n$n-d64.npy" ] || python3 Scripts/generate_patterns.py --count "$n" --dimension 64
  # Streamed and in-memory alternate.
  if [ "$n" -le "$IN_MEMORY_MAX" ]; then run in-memory "$n"; fi
  run streamed "$n" open
  run streamed "$n"
done
python3 Scripts/bench_streaming_study_report.py "$OUT"
