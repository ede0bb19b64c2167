#!/usr/bin/env bash
# Builds the DocC documentation of every public module as one combined archive
# (.build/plugins/Swift-DocC/outputs/Attractors.doccarchive). Extra arguments go to the plugin,
# e.g. --transform-for-static-hosting --output-path site.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-dependencies.sh
swift package --disable-sandbox generate-documentation \
  --target Attractors --target AttractorCore --target AttractorLinearAlgebra --target AttractorModels \
  --target AttractorIO --target AttractorExperiments --target AttractorAnalysis --target AttractorPlots --target AttractorStudies --target AttractorCommands \
  --enable-experimental-combined-documentation "$@"
