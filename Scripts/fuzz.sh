#!/usr/bin/env bash
# Fuzzes the readers of outside input with libFuzzer (Swift's -sanitize=fuzzer, plus AddressSanitizer).
#
#   bash Scripts/fuzz.sh TARGET|all [SECONDS] [extra libFuzzer flags…]
#
# Targets (Fuzz/<target>.swift): npy, safetensors, idx, study, modelconfig, bertconfig, vocab. Builds the library
# modules once into .build-fuzz/ (instrumented; not part of Package.swift's products, so
# `swift build` and `swift test` never see the fuzz entry points), links each target with swiftc,
# then runs it on a scratch copy of its seed corpus (Fuzz/Corpus/<target>/) for SECONDS
# (default 30) with -rss_limit_mb=2048 (leak detection off, see ASAN_OPTIONS below). Prints libFuzzer's final stats; exits non-zero on a crash
# (the reproducer is left in .build-fuzz/artifacts/<target>/). Extra flags go to libFuzzer, e.g.
# `bash Scripts/fuzz.sh npy 0 -runs=1000000` (SECONDS 0 = no time limit).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(npy safetensors idx study modelconfig bertconfig vocab)
target=${1:?usage: Scripts/fuzz.sh TARGET|all [SECONDS] [libFuzzer flags...]}
seconds=${2:-30}
shift $(($# < 2 ? $# : 2))
if [[ $target == all ]]; then selected=("${TARGETS[@]}"); else selected=("$target"); fi
for t in "${selected[@]}"; do
  [[ -f Fuzz/$t.swift ]] || { echo "fuzz.sh: no target '$t' (have: ${TARGETS[*]})" >&2; exit 2; }
done

scratch=.build-fuzz
# Swift's lazily initialised globals (e.g. the study registry's parameter tables) are reported as
# "direct leaks" at exit; leaks are not what these targets look for.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
sanitize=-sanitize=fuzzer,address
# Library modules the targets import, with their dependencies (object files linked into each target).
modules=(_NumericsShims AttractorLinearAlgebra AttractorCore AttractorIO AttractorModels AttractorPlots AttractorAnalysis
  AttractorExperiments AttractorStudies CAttractorKernels RealModule ComplexModule)
swift build -c release --scratch-path "$scratch" --target AttractorStudies -Xswiftc "$sanitize" 2>&1 | tail -n 1
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
objects=()
for m in "${modules[@]}"; do
  found=("$bin/$m.build"/*.o)
  [[ -e ${found[0]} ]] || { echo "fuzz.sh: no object files in $bin/$m.build" >&2; exit 2; }
  objects+=("${found[@]}")
done

status=0
for t in "${selected[@]}"; do
  exe=$scratch/fuzz-$t
  swiftc -O -parse-as-library "$sanitize" -module-name "Fuzz_$t" -I "$bin/Modules" -I Sources/CLinearAlgebra \
    -I "$bin/CAttractorKernels.build" -I "$scratch/checkouts/swift-numerics/Sources/_NumericsShims/include" \
    "Fuzz/$t.swift" "${objects[@]}" -llapacke -lopenblas -o "$exe" 2>"$scratch/link-$t.log" \
    || { grep -v 'Cannot export local symbol' "$scratch/link-$t.log" >&2; exit 2; }
  mkdir -p "$scratch"
  corpus=$scratch/corpus/$t artifacts=$scratch/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  cp -n Fuzz/Corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  log=$scratch/fuzz-$t.log
  echo "== $t (${seconds}s${*:+ $*})"
  if "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -detect_leaks=0 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@" "$corpus" >"$log" 2>&1; then
    grep -E '^(#[0-9]+.*(DONE|pulse)|Done [0-9]+ runs)' "$log" | tail -n 2
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' '
    echo
  else
    status=1
    echo "fuzz.sh: $t crashed or failed; log $log, reproducer in $artifacts/" >&2
    tail -n 40 "$log" >&2
  fi
done
exit $status
