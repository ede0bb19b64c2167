#!/usr/bin/env bash
# Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from the Debian package dataset-fashion-mnist:
# installs the package if its files are missing (apt-get; through sudo when not root), unpacks the
# four gzipped IDX files from /usr/share/datasets/fashion-mnist into Data/fashion-mnist (git-ignored;
# same names as MNIST's: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
# t10k-labels-idx1-ubyte), and checks each file's size and IDX header (60,000 / 10,000 images of
# 28 × 28). Re-running with correct files present does nothing.
#
# Usage: bash Scripts/fetch_fashion_mnist.sh [--out Data/fashion-mnist]
set -euo pipefail
cd "$(dirname "$0")/.."
out="Data/fashion-mnist"
if [[ "${1:-}" == "--out" && -n "${2:-}" ]]; then out="$2"; elif [[ $# -gt 0 ]]; then
  echo "usage: bash Scripts/fetch_fashion_mnist.sh [--out DIR]" >&2
  exit 64
fi
src="/usr/share/datasets/fashion-mnist"
# name → expected size in bytes (16-byte header + 60,000·784 etc.; labels 8-byte header + N).
declare -A sizes=(
  [train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008
)
# name → expected IDX header as hex (magic 0x00000803 / 0x00000801, then the dimensions).
declare -A headers=(
  [train-images-idx3-ubyte]="000008030000ea600000001c0000001c" [train-labels-idx1-ubyte]="000008010000ea60"
  [t10k-images-idx3-ubyte]="00000803000027100000001c0000001c" [t10k-labels-idx1-ubyte]="0000080100002710"
)

check() {  # check FILE NAME: size and header
  local file="$1" name="$2"
  [[ -f "$file" ]] || return 1
  [[ "$(stat -c %s "$file")" == "${sizes[$name]}" ]] || return 1
  local n=$(( ${#headers[$name]} / 2 ))
  [[ "$(head -c "$n" "$file" | od -An -tx1 | tr -d ' \n')" == "${headers[$name]}" ]] || return 1
}

all_present=1
for name in "${!sizes[@]}"; do check "$out/$name" "$name" || all_present=0; done
if [[ $all_present == 1 ]]; then
  echo "Fashion-MNIST already in $out"
  exit 0
fi

if [[ ! -f "$src/train-images-idx3-ubyte.gz" ]]; then
  sudo_cmd=()
  if [[ $(id -u) != 0 ]]; then sudo_cmd=(sudo); fi
  echo "installing the Debian package dataset-fashion-mnist" >&2
  "${sudo_cmd[@]}" apt-get install -y dataset-fashion-mnist >&2 \
    || { "${sudo_cmd[@]}" apt-get update >&2 && "${sudo_cmd[@]}" apt-get install -y dataset-fashion-mnist >&2; }
fi

mkdir -p "$out"
for name in "${!sizes[@]}"; do
  gz="$src/$name.gz"
  [[ -f "$gz" ]] || { echo "error: $gz is missing after installing dataset-fashion-mnist" >&2; exit 1; }
  gzip -dc "$gz" > "$out/$name.tmp"
  if ! check "$out/$name.tmp" "$name"; then
    echo "error: $gz unpacks to $(stat -c %s "$out/$name.tmp") bytes or a wrong IDX header;" \
      "expected ${sizes[$name]} bytes starting ${headers[$name]}" >&2
    rm -f "$out/$name.tmp"
    exit 1
  fi
  mv "$out/$name.tmp" "$out/$name"  # atomic on POSIX
done
echo "Fashion-MNIST written to $out (4 IDX files, sizes and headers checked)"
