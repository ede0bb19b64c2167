#!/usr/bin/env python3
"""Benchmark: the modern Hopfield (recall) update in Swift and in NumPy, alternating sides in one run.

Swift: `attractor bench update --json` (B queries against N stored patterns of dimension d, Float:
logits = beta Q X^T, row softmax, P X, on preallocated buffers; median of --repetitions after a
warm-up). NumPy: the same update as a user would write it (bench_numpy.py), float32, median of
--repetitions after a warm-up, in this process. Rounds alternate the two sides (Swift, NumPy, Swift,
NumPy, ...), so load from other processes falls on both; each side's figure is the median of its
round medians, and the ratio NumPy / Swift (> 1: Swift faster) is taken of those.

Both sides use the same number of BLAS threads (--threads; set before NumPy loads). The Swift
row softmax uses all cores whatever the BLAS thread count; NumPy's softmax runs on one.

Run (after `swift build -c release --product attractor`):
  python3 Scripts/bench_update.py [--threads 1] [--dimensions 64,256] [--rounds 3] [--json FILE]
"""
import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=str(bench_common.ROOT / ".build/release/attractor"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--queries", type=int, default=1024)
    ap.add_argument("--patterns", type=int, default=8192)
    ap.add_argument("--dimensions", default="64,256")
    ap.add_argument("--repetitions", type=int, default=10, help="timed runs per round and side")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=bench_common.default_json("update"))
    args = ap.parse_args()
    dims = [int(x) for x in args.dimensions.split(",")]

    bench_common.set_blas_threads(args.threads)
    import numpy as np

    load_before = bench_common.load_average()
    rng = np.random.default_rng(args.seed)
    inputs = {}
    for d in dims:
        X = (rng.standard_normal((args.patterns, d)) / np.sqrt(d)).astype(np.float32)
        Q = (rng.standard_normal((args.queries, d)) / np.sqrt(d)).astype(np.float32)
        inputs[d] = (X, Q, np.float32(np.sqrt(d)))

    def numpy_update(d):
        X, Q, beta = inputs[d]
        z = beta * (Q @ X.T)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z @ X

    def numpy_median(d):
        numpy_update(d)
        times = []
        for _ in range(args.repetitions):
            t0 = time.perf_counter()
            numpy_update(d)
            times.append(time.perf_counter() - t0)
        return bench_common.median(times)

    swift_rounds = {d: [] for d in dims}
    gemm_rounds = {d: [] for d in dims}
    numpy_rounds = {d: [] for d in dims}
    swift_threads = None
    for _ in range(args.rounds):
        s = bench_common.run_swift([
            args.binary, "bench", "update", "--json", "--threads", str(args.threads), "--repetitions",
            str(args.repetitions), "--count", str(args.patterns), "--query-count", str(args.queries),
            "--dimension", ",".join(map(str, dims)), "--seed", str(args.seed)])
        swift_threads = s["blasThreads"]
        for row in s["rows"]:
            swift_rounds[row["dimension"]].append(row["updateSeconds"])
            gemm_rounds[row["dimension"]].append(row["gemmSeconds"])
        for d in dims:
            numpy_rounds[d].append(numpy_median(d))
    load_after = bench_common.load_average()

    med = bench_common.median
    print(f"Modern Hopfield update, Float32: B = {args.queries} queries, N = {args.patterns} patterns; "
          f"{args.rounds} rounds alternating Swift and NumPy, each a median of {args.repetitions} runs after a warm-up")
    print(f"Swift reports {swift_threads} BLAS thread(s)")
    print("")
    print("| d | Swift update (ms) | Swift GEMM only (ms) | NumPy update (ms) | NumPy / Swift | per round |")
    print("|---:|---:|---:|---:|---:|---|")
    rows = []
    for d in dims:
        s, g, n = med(swift_rounds[d]), med(gemm_rounds[d]), med(numpy_rounds[d])
        per_round = ", ".join(f"{a / b:.2f}" for a, b in zip(numpy_rounds[d], swift_rounds[d]))
        print(f"| {d} | {s * 1e3:.1f} | {g * 1e3:.1f} | {n * 1e3:.1f} | {n / s:.2f} | {per_round} |")
        rows.append({"dimension": d, "swiftRoundMedians": swift_rounds[d], "swiftGemmRoundMedians": gemm_rounds[d],
                     "numpyRoundMedians": numpy_rounds[d], "ratioNumPyOverSwift": n / s})
    print("")
    all_swift = [x for d in dims for x in swift_rounds[d]]
    all_numpy = [x for d in dims for x in numpy_rounds[d]]
    result = bench_common.summary(
        "update", all_swift, all_numpy, args.threads, load_before, load_after,
        extra={"rows": rows, "queries": args.queries, "patterns": args.patterns, "swiftBlasThreads": swift_threads})
    bench_common.write_json(args.json, result)
    print(f"(the overall ratio pools the dimensions; the table gives each) wrote {args.json}")


if __name__ == "__main__":
    main()
