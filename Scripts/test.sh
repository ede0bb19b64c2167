#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-dependencies.sh
swift test "$@"
