#!/usr/bin/env bash
# The main job on its built-in default (no download): `attractor compare` runs every model family
# (classical and modern Hopfield, dense associative memories, attention trained on each draw's
# patterns, the pseudo-likelihood network) on the same random patterns at loads
# K/d = 1/16 … 8 and the same corrupted queries, prints the table and writes the report folder
# report-compare/ (report.md, results.csv, results.json, SVG figures). Extra arguments go to
# `attractor compare` (for example --study my-study.json, --output-dir dir, --resume).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-dependencies.sh
swift build -c release --product attractor >&2
bin="$(swift build -c release --show-bin-path)/attractor"
"$bin" compare "$@"
