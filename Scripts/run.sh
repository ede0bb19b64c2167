#!/usr/bin/env bash
# The main job on its built-in default (no download): a recall demo of the modern and classical
# Hopfield networks on random patterns. Extra arguments go to `attractor recall`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-dependencies.sh
swift build -c release --product attractor >&2
bin="$(swift build -c release --show-bin-path)/attractor"
"$bin" recall "$@"
echo
"$bin" recall --model classical --corruption flip --level 0.2 --count 10 --dimension 200 "$@"
