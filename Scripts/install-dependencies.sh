#!/usr/bin/env bash
# Installs the Debian packages Attractors links against (OpenBLAS and LAPACKE) when missing.
# Safe to run repeatedly: it does nothing when they are present.
set -euo pipefail

packages=(liblapacke-dev libopenblas-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} ..." >&2
  if [ "$(id -u)" -eq 0 ]; then
    sudo_cmd=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "error: ${missing[*]} are missing and this user cannot install them (run as root or install sudo)." >&2
    exit 1
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "error: the Swift toolchain (6.0 or newer) is not on PATH; install it from swift.org first." >&2
  exit 1
fi
