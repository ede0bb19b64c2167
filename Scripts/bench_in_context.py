#!/usr/bin/env python3
"""Training throughput of one-layer attention on in-context denoising: `attractor bench
in-context-denoising` beside the same training step in NumPy, alternating, in one script.

A training step, for linear and softmax attention (full W_KQ, W_PV; float32), on the subspace task
(n = 16, d = 8, sigma0^2 = 2, sigma_Z^2 = 1, L = 500, B = 64 by default):
  full step:      draw B fresh prompts (a random orthonormal n x d basis per prompt, L + 1 Gaussian
                  tokens in it, the query = token + noise), the forward pass
                  f = W_PV X^T a,  a = softmax(X W_KQ q) or X W_KQ q / L,
                  the analytic backward pass of (1/B) sum ||f - x||^2, and one Adam update;
  gradient step:  the same without drawing the prompts.
NumPy does each stage batched over the B prompts (stacked QR, matmul/einsum on (B, L, n) arrays),
the way one would write it; the Swift command does the per-prompt GEMVs of the library.

For each BLAS thread count T (--threads, default 1,2) the script alternates --rounds times between
the Swift binary (a subprocess with --threads T and --json) and a NumPy subprocess started with
OPENBLAS_NUM_THREADS=T and OMP_NUM_THREADS=T (set before NumPy is imported). Each side reports the
median over its repetitions of prompts/s; the script prints the median over rounds of each side and
ratio = Swift prompts/s / NumPy prompts/s.

Run:  python3 Scripts/bench_in_context.py --swift .build/release/attractor [--threads 1,2] [--rounds 3]
          [--context-length 500 --batch 64 --steps 20 --repetitions 5]
"""
import argparse
import json
import os
import subprocess
import sys

NUMPY_SIDE = r"""
import json, sys, time
import numpy as np

n, d, L, B, steps, reps = map(int, sys.argv[1:7])
s0, sz = np.float32(np.sqrt(2.0)), np.float32(1.0)
rng = np.random.default_rng(0)

def draw():
    U, _ = np.linalg.qr(rng.standard_normal((B, n, d), dtype=np.float32))          # (B, n, d)
    g = rng.standard_normal((B, L + 1, d), dtype=np.float32) * s0
    tokens = g @ U.transpose(0, 2, 1)                                                # (B, L+1, n)
    X, x = tokens[:, :L], tokens[:, L]
    q = x + sz * rng.standard_normal((B, n), dtype=np.float32)
    return np.ascontiguousarray(X), q, x

def make(variant):
    W = [0.1 / np.sqrt(n) * rng.standard_normal((n, n)).astype(np.float32) for _ in range(2)]
    m = [np.zeros_like(w) for w in W]
    v = [np.zeros_like(w) for w in W]
    return {"variant": variant, "W": W, "m": m, "v": v, "t": 0}

def step(state, X, q, x):
    Wkq, Wpv = state["W"]
    u = q @ Wkq.T                                              # (B, n)
    z = np.matmul(X, u[:, :, None])[:, :, 0]                   # (B, L)
    if state["variant"] == "softmax":
        z = z - z.max(axis=1, keepdims=True)
        a = np.exp(z)
        a /= a.sum(axis=1, keepdims=True)
    else:
        a = z / L
    vv = np.matmul(a[:, None, :], X)[:, 0, :]                  # (B, n)
    f = vv @ Wpv.T
    gf = (2.0 / B) * (f - x)
    gWpv = gf.T @ vv
    gv = gf @ Wpv
    ga = np.matmul(X, gv[:, :, None])[:, :, 0]
    if state["variant"] == "softmax":
        gz = a * (ga - (a * ga).sum(axis=1, keepdims=True))
    else:
        gz = ga / L
    gu = np.matmul(gz[:, None, :], X)[:, 0, :]
    gWkq = gu.T @ q
    state["t"] += 1
    t = state["t"]
    for k, g in enumerate((gWkq, gWpv)):
        state["m"][k] = 0.9 * state["m"][k] + 0.1 * g
        state["v"][k] = 0.999 * state["v"][k] + 0.001 * g * g
        mh = state["m"][k] / (1 - 0.9 ** t)
        vh = state["v"][k] / (1 - 0.999 ** t)
        state["W"][k] = state["W"][k] - 1e-3 * mh / (np.sqrt(vh) + 1e-8)

def median(xs):
    xs = sorted(xs)
    k = len(xs)
    return xs[k // 2] if k % 2 else 0.5 * (xs[k // 2 - 1] + xs[k // 2])

out = []
for variant in ("linear", "softmax"):
    state = make(variant)
    batch = draw()
    def full():
        for _ in range(steps):
            step(state, *draw())
    def grad():
        for _ in range(steps):
            step(state, *batch)
    res = {}
    for name, fn in (("full", full), ("gradient", grad)):
        fn()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        res[name] = median(times) / steps
    out.append({"variant": variant, "fullStepSeconds": res["full"], "gradientStepSeconds": res["gradient"],
                "promptsPerSecond": B / res["full"], "gradientPromptsPerSecond": B / res["gradient"]})
print(json.dumps({"rows": out, "numpy": np.__version__}))
"""


def median(xs):
    xs = sorted(xs)
    k = len(xs)
    return xs[k // 2] if k % 2 else 0.5 * (xs[k // 2 - 1] + xs[k // 2])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--swift", required=True)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--context-length", type=int, default=500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    n, d = 16, 8
    print(f"In-context denoising training: subspace task n={n}, d={d}, L={args.context_length}, B={args.batch}, "
          f"float32; {args.steps} steps per run, median of {args.repetitions} runs per side per round, "
          f"{args.rounds} alternating rounds; cores: {os.cpu_count()}")
    print()
    print("| BLAS threads | variant | stage | Swift prompts/s | NumPy prompts/s | ratio Swift/NumPy |")
    print("|---:|---|---|---:|---:|---:|")
    results = []
    for t in [int(x) for x in args.threads.split(",")]:
        swift_rounds, numpy_rounds = [], []
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
        for _ in range(args.rounds):
            s = subprocess.run(
                [args.swift, "bench", "in-context-denoising", "--threads", str(t), "--json",
                 "--context-length", str(args.context_length), "--batch-size", str(args.batch),
                 "--steps", str(args.steps), "--repetitions", str(args.repetitions)],
                check=True, capture_output=True, text=True)
            swift_rounds.append(json.loads(s.stdout))
            p = subprocess.run(
                [sys.executable, "-c", NUMPY_SIDE, str(n), str(d), str(args.context_length), str(args.batch),
                 str(args.steps), str(args.repetitions)],
                check=True, capture_output=True, text=True, env=env)
            numpy_rounds.append(json.loads(p.stdout))
        for i, variant in enumerate(("linear", "softmax")):
            for key, stage in (("promptsPerSecond", "full step"), ("gradientPromptsPerSecond", "gradient only")):
                sw = median([r["rows"][i][key] for r in swift_rounds])
                npv = median([r["rows"][i][key] for r in numpy_rounds])
                results.append({"threads": t, "variant": variant, "stage": stage, "swift": sw, "numpy": npv})
                print(f"| {t} | {variant} | {stage} | {sw:.0f} | {npv:.0f} | {sw / npv:.2f} |")
    print()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
