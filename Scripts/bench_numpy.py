#!/usr/bin/env python3
"""The batched modern Hopfield update in NumPy, as a user would write it, timed beside NumPy's own
GEMMs on the same shapes. Companion to `attractor bench update` (same shapes, same statistic: median of
repetitions after one warm-up, Float32). NumPy uses its own bundled OpenBLAS; its thread count is
printed when threadpoolctl is available, otherwise the OPENBLAS_NUM_THREADS setting.

Run:  python3 Scripts/bench_numpy.py [--queries 1024] [--patterns 8192] [--dimensions 64,256]
"""
import argparse
import os
import time

import numpy as np


def median_time(fn, repetitions):
    fn()
    times = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1024)
    ap.add_argument("--patterns", type=int, default=8192)
    ap.add_argument("--dimensions", default="64,256")
    ap.add_argument("--repetitions", type=int, default=10)
    args = ap.parse_args()
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "library default")
    try:
        from threadpoolctl import threadpool_info

        threads = ",".join(str(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:
        pass
    print(f"NumPy {np.__version__} modern Hopfield update vs NumPy GEMM, float32, "
          f"B = {args.queries}, N = {args.patterns}, BLAS threads: {threads}")
    print("|   d | update (ms) | GEMM only (ms) | update GFLOP/s | GEMM GFLOP/s | ratio |")
    print("|----:|------------:|---------------:|---------------:|-------------:|------:|")
    rng = np.random.default_rng(0)
    for d in [int(x) for x in args.dimensions.split(",")]:
        X = (rng.standard_normal((args.patterns, d)) / np.sqrt(d)).astype(np.float32)
        Q = (rng.standard_normal((args.queries, d)) / np.sqrt(d)).astype(np.float32)
        beta = np.float32(np.sqrt(d))

        def update():
            z = beta * (Q @ X.T)
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            return z @ X

        def gemm():
            z = Q @ X.T
            return z @ X

        tu = median_time(update, args.repetitions)
        tg = median_time(gemm, args.repetitions)
        flops = 4.0 * args.queries * args.patterns * d
        print(f"| {d:3d} | {tu * 1e3:11.1f} | {tg * 1e3:14.1f} | {flops / tu / 1e9:14.1f} | "
              f"{flops / tg / 1e9:12.1f} | {tg / tu:5.2f} |")


if __name__ == "__main__":
    main()
