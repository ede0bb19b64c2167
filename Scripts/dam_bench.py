#!/usr/bin/env python3
"""NumPy side of the dense-associative-memory sweep benchmark (Docs/DenseAssociativeMemory.md).

The same rule as the Swift model (Krotov & Hopfield's asynchronous energy-difference update,
sigma_i <- Sign sum_mu xi_i^mu D(m_mu - xi_i^mu sigma_i), D(x) = F(x+1) - F(x-1) tabulated over
|x| <= N-1, overlaps m kept up to date per flip: m += 2 xi_i new_sigma_i), implemented two ways:

  per-start:  one start at a time; each unit update is three O(K) NumPy calls (gather from the
              D table, a dot product, and on a flip an axpy on the overlaps) plus Python overhead.
              This is the algorithm the Swift code runs, one unit at a time.
  batched:    B starts at once, the same random unit order for all of them in a sweep; each unit
              update is O(B*K) NumPy work on a B x K overlap matrix, which amortises the Python
              overhead over B starts (the fastest form of this rule NumPy allows that we found).

Both count unit updates (one unit of one start decided) per second, for N = 100, K = 2000, n = 3
by default, from uniform random +-1 starts. NumPy's elementwise work runs on one thread.
With --swift PATH (the release `attractor` binary) the script also runs
`attractor bench dense-sweep` on the same sizes in the same session and prints the ratios, so both
figures come from one run on the same (noisy) machine.
With --rounds R (default 3) the NumPy variants and the Swift run alternate R times (NumPy, Swift,
NumPy, Swift, ...) so load from other processes falls on both; each rate is the median over rounds,
and a JSON report goes to --json (default report-bench/dense-sweep.json).
Run: python3 Scripts/dam_bench.py [--units 100] [--patterns 2000] [--degree 3] [--starts 50] [--batch 50] [--sweeps 3] [--swift .build/release/attractor]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_common  # noqa: E402

import numpy as np


def difference_table(n_units, degree):
    x = np.arange(-(n_units - 1), n_units, dtype=np.float64)
    return (x + 1) ** degree - (x - 1) ** degree  # exact for these sizes (< 2**53)


def brute_decision(xi, sigma, i, degree):
    total = 0
    for mu in range(xi.shape[0]):
        rest = int(xi[mu] @ sigma) - int(xi[mu, i]) * int(sigma[i])
        total += (int(xi[mu, i]) + rest) ** degree - (-int(xi[mu, i]) + rest) ** degree
    return 1 if total > 0 else (-1 if total < 0 else int(sigma[i]))


def per_start(xi, starts, degree, max_sweeps, rng):
    k, n = xi.shape
    table = difference_table(n, degree)
    xt = np.ascontiguousarray(xi.T)  # N x K, unit-major
    xtf = xt.astype(np.float64)
    updates = 0
    finals = []
    for s0 in starts:
        s = s0.copy()
        m = xi @ s  # int64 overlaps
        for _ in range(max_sweeps):
            flips = 0
            for i in rng.permutation(n):
                si = s[i]
                d = table[m - xt[i] * si + (n - 1)]
                total = xtf[i] @ d
                updates += 1
                new = 1 if total > 0 else (-1 if total < 0 else si)
                if new != si:
                    s[i] = new
                    m += 2 * new * xt[i]
                    flips += 1
            if flips == 0:
                break
        finals.append(s)
    return updates, np.array(finals)


def batched(xi, starts, degree, sweeps, rng):
    k, n = xi.shape
    table = difference_table(n, degree)
    xt = np.ascontiguousarray(xi.T)
    xtf = xt.astype(np.float64)
    s = starts.copy()  # B x N
    m = s @ xi.T  # B x K
    b = s.shape[0]
    updates = 0
    for _ in range(sweeps):
        for i in rng.permutation(n):
            si = s[:, i]
            d = table[m - np.outer(si, xt[i]) + (n - 1)]
            total = d @ xtf[i]
            new = np.where(total > 0, 1, np.where(total < 0, -1, si))
            changed = new != si
            if changed.any():
                s[changed, i] = new[changed]
                m[changed] += 2 * np.outer(new[changed], xt[i])
            updates += b
    return updates, s, m


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--units", type=int, default=100)
    p.add_argument("--patterns", type=int, default=2000)
    p.add_argument("--degree", type=int, default=3)
    p.add_argument("--starts", type=int, default=50)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--sweeps", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--swift", default=None, help="path of the release attractor binary")
    p.add_argument("--swift-starts", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=3, help="rounds alternating NumPy and Swift")
    p.add_argument("--json", default=bench_common.default_json("dense-sweep"))
    a = p.parse_args()
    load_before = bench_common.load_average()
    rng = np.random.default_rng(a.seed)
    xi = rng.choice(np.array([-1, 1], dtype=np.int64), size=(a.patterns, a.units))

    # Self-check of the NumPy rule against the paper's formula evaluated from scratch.
    small = xi[:50, :30]
    st = rng.choice(np.array([-1, 1], dtype=np.int64), size=30)
    tb = difference_table(30, a.degree)
    ms = small @ st
    for i in range(30):
        total = small[:, i].astype(np.float64) @ tb[ms - small[:, i] * st[i] + 29]
        mine = 1 if total > 0 else (-1 if total < 0 else st[i])
        assert mine == brute_decision(small, st, i, a.degree), "NumPy rule disagrees with the formula"

    per_start_rates, batched_rates, swift_rates = [], [], {}
    last = None
    for _ in range(a.rounds):
        starts = rng.choice(np.array([-1, 1], dtype=np.int64), size=(a.starts, a.units))
        t0 = time.perf_counter()
        u1, _ = per_start(xi, starts, a.degree, 1000, rng)
        t1 = time.perf_counter() - t0

        bstarts = rng.choice(np.array([-1, 1], dtype=np.int64), size=(a.batch, a.units))
        t0 = time.perf_counter()
        u2, s2, m2 = batched(xi, bstarts, a.degree, a.sweeps, rng)
        t2 = time.perf_counter() - t0
        assert np.array_equal(m2, s2 @ xi.T), "incremental overlaps drifted"
        per_start_rates.append(u1 / t1)
        batched_rates.append(u2 / t2)
        last = (u1, t1, u2, t2)
        if a.swift:
            out = subprocess.run(
                [a.swift, "bench", "dense-sweep", "--dimension", str(a.units), "--count", str(a.patterns),
                 "--degree", str(a.degree), "--starts", str(a.swift_starts), "--seed", str(a.seed),
                 "--repetitions", "1", "--json"], check=True, capture_output=True, text=True).stdout
            for row in json.loads(out)["rows"]:
                swift_rates.setdefault(row["workers"], []).append(row["unitUpdatesPerSecond"])
    load_after = bench_common.load_average()
    med = bench_common.median
    u1, t1, u2, t2 = last

    print(f"# NumPy {np.__version__}, N = {a.units}, K = {a.patterns}, n = {a.degree}, seed {a.seed}, "
          f"cores {os.cpu_count()}, elementwise NumPy on 1 thread; {a.rounds} round(s) alternating NumPy and Swift")
    print(f"# load average before: {' '.join(map(str, load_before))}; after: {' '.join(map(str, load_after))}")
    print("")
    print("| variant | unit updates (last round) | seconds (last round) | unit updates / s (median over rounds) |")
    print("|---|---:|---:|---:|")
    print(f"| per-start ({a.starts} random starts, to convergence) | {u1} | {t1:.3f} | {med(per_start_rates):.4g} |")
    print(f"| batched ({a.batch} random starts, {a.sweeps} sweeps) | {u2} | {t2:.3f} | {med(batched_rates):.4g} |")
    best = max(med(per_start_rates), med(batched_rates))
    rows = []
    if a.swift:
        print("")
        print("| Swift workers (threads) | unit updates / s (median over rounds) | ÷ best NumPy (%.4g) | per round |" % best)
        print("|---:|---:|---:|---|")
        for workers in sorted(swift_rates):
            rate = med(swift_rates[workers])
            per_round = ", ".join(f"{r / max(p, b):.1f}" for r, p, b in zip(swift_rates[workers], per_start_rates, batched_rates))
            print(f"| {workers} | {rate:.4g} | {rate / best:.1f} | {per_round} |")
            rows.append({"workers": workers, "swiftRates": swift_rates[workers], "ratioSwiftOverBestNumPy": rate / best})
    bench_common.write_json(a.json, {
        "benchmark": "dense-sweep", "units": a.units, "patterns": a.patterns, "degree": a.degree, "rounds": a.rounds,
        "numpyPerStartRates": per_start_rates, "numpyBatchedRates": batched_rates, "swift": rows,
        "numpyThreads": 1, "cores": os.cpu_count(), "loadAverageBefore": load_before, "loadAverageAfter": load_after})
    print(f"wrote {a.json}")

if __name__ == "__main__":
    main()
