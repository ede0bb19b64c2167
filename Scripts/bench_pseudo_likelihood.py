#!/usr/bin/env python3
"""Benchmark: the pseudo-likelihood attractor (D'Amico & Negri) in Swift and in NumPy, alternating sides:
(1) one local-rule training epoch on 10,000 MNIST images, (2) one synchronous dynamics step on a batch of
1,024 states.

Runs `attractor bench pseudo-likelihood --json --save-inputs DIR` (the Swift timings: median of
--repetitions runs after a warm-up; it writes the embedded images, the couplings after one epoch, the
step's states and Swift's output of the step), then times the same two pieces of work in NumPy on the
same arrays, --rounds times alternating, and checks that NumPy's step reproduces Swift's output.

Same algorithm and sizes on both sides: N = 25 tokens of d = 32 (the MNIST embedding of
Docs/PseudoLikelihood.md), λ = 4, γ = 0.5, η = 0.5, κ = 1. Couplings stored by source token
(W_j = [J_0j; …; J_{N-1,j}], N·d × d). Epoch: minibatches of 100 in a random order; per minibatch and
source token j one GEMM F_j = X_j W_jᵀ (B × N·d), logits λ x_i·F_j[i], a softmax over j, then per j one
GEMM S_jᵀ X_j for the Hebbian term ⟨α_{i←j} x_i x_jᵀ⟩, the step J ← (1−ηκ)J + ηD and the projection
onto Σ_j ‖J_ij‖_F ≤ 1/κ. Step: the same fields and softmax on the batch, h_i = Σ_j α_{i←j} F_j[i],
x_i ← normalise((1−γ) h_i + γ x_i).

Both sides use the same number of BLAS threads (--threads, default 1; set before NumPy loads).

Run (after `swift build -c release --product attractor` and `python3 Scripts/fetch_mnist.py`):
  python3 Scripts/bench_pseudo_likelihood.py [--binary .build/release/attractor] [--threads 1] [--rounds 3]
"""
import argparse
import json
import os
import pathlib
import subprocess
import tempfile
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--binary", default=str(root / ".build/release/attractor"))
    parser.add_argument("--mnist", default=str(root / "Data/mnist"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="rounds alternating Swift and NumPy")
    parser.add_argument("--repetitions", type=int, default=3, help="timed runs per round and side (median)")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--step-batch", type=int, default=1024)
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np  # after the thread count is set

    n, d, lam, gamma, eta, kappa, batch = 25, 32, 4.0, 0.5, 0.5, 1.0, 100
    nd = n * d
    rng = np.random.default_rng(0)

    def source_major(couplings):
        # couplings: (N·N·d, d), block (i·N + j) = J_ij  →  w[j] = W_j (N·d × d), block i = J_ij.
        j4 = couplings.reshape(n, n, d, d)  # [i, j]
        return np.ascontiguousarray(j4.transpose(1, 0, 2, 3).reshape(n, nd, d))

    def forward(w, x):
        """Logits (B, N, N) and the fields of every source, f[j] = X_j W_jᵀ (B × N·d)."""
        b = x.shape[0]
        xt = x.reshape(b, n, d)
        logits = np.empty((b, n, n), np.float32)
        fields = np.empty((n, b, nd), np.float32)
        for j in range(n):
            np.matmul(x[:, j * d : (j + 1) * d], w[j].T, out=fields[j])
            logits[:, :, j] = lam * np.einsum("bia,bia->bi", xt, fields[j].reshape(b, n, d))
        logits[:, np.arange(n), np.arange(n)] = -np.inf
        logits -= logits.max(axis=2, keepdims=True)
        alpha = np.exp(logits)
        alpha /= alpha.sum(axis=2, keepdims=True)
        return alpha, fields

    def numpy_epoch(data):
        w = np.zeros((n, nd, d), np.float32)
        order = rng.permutation(len(data))
        for start in range(0, len(data), batch):
            x = data[order[start : start + batch]]
            b = x.shape[0]
            xt = x.reshape(b, n, d)
            alpha, _ = forward(w, x)
            w *= 1 - eta * kappa
            for j in range(n):
                s = (alpha[:, :, j, None] * xt).reshape(b, nd)
                w[j] += (eta / b) * (s.T @ x[:, j * d : (j + 1) * d])
            norms = np.sqrt((w.reshape(n, n, d, d) ** 2).sum(axis=(2, 3))).sum(axis=0)  # per target i
            factor = np.minimum(1.0, (1 / kappa) / np.maximum(norms, 1e-30)).astype(np.float32)
            w *= np.repeat(factor, d)[None, :, None]
        return w

    def numpy_step(w, x):
        b = x.shape[0]
        alpha, fields = forward(w, x)
        h = np.zeros((b, n, d), np.float32)
        for j in range(n):
            h += alpha[:, :, j, None] * fields[j].reshape(b, n, d)
        v = (1 - gamma) * h + gamma * x.reshape(b, n, d)
        return (v / np.linalg.norm(v, axis=2, keepdims=True)).reshape(b, nd)

    def timed(fn, reps):
        fn()  # warm-up, as on the Swift side
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            folder = os.path.join(tmp, f"round{r}")
            cmd = [
                args.binary, "bench", "pseudo-likelihood", "--json", "--threads", str(args.threads), "--count",
                str(args.count), "--step-batch", str(args.step_batch), "--repetitions", str(args.repetitions),
                "--mnist", args.mnist, "--save-inputs", folder,
            ]
            swift = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            data = np.load(os.path.join(folder, "data.npy"))
            w = source_major(np.load(os.path.join(folder, "couplings.npy")))
            states = np.load(os.path.join(folder, "states.npy"))
            swift_next = np.load(os.path.join(folder, "next.npy"))
            diff = float(np.abs(numpy_step(w, states) - swift_next).max())
            if diff > 1e-4:
                raise SystemExit(f"NumPy's step differs from Swift's by {diff:.2e} (tolerance 1e-4)")
            epoch = timed(lambda: numpy_epoch(data), args.repetitions)
            step = timed(lambda: numpy_step(w, states), args.repetitions)
            rows.append((swift["epochSeconds"], epoch, swift["stepSeconds"], step))
            print(
                f"round {r + 1}: epoch Swift {rows[-1][0]:.3f} s, NumPy {epoch:.3f} s; step (B = {args.step_batch}) "
                f"Swift {rows[-1][2] * 1e3:.1f} ms, NumPy {step * 1e3:.1f} ms; max |Δ next| = {diff:.1e}",
                flush=True,
            )
    se, pe = min(r[0] for r in rows), min(r[1] for r in rows)
    ss, ps = min(r[2] for r in rows), min(r[3] for r in rows)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"pseudo-likelihood, N = {n}, d = {d}, Float, {args.threads} BLAS thread(s), best of {args.rounds} rounds "
        f"(each a median of {args.repetitions} runs after a warm-up):\n"
        f"  one local-rule epoch, {args.count} images, minibatch {batch}: Swift {se:.3f} s, NumPy {pe:.3f} s, "
        f"NumPy/Swift = {pe / se:.2f}\n"
        f"  one dynamics step, batch {args.step_batch}: Swift {ss * 1e3:.1f} ms, NumPy {ps * 1e3:.1f} ms, "
        f"NumPy/Swift = {ps / ss:.2f}\n"
        f"  load average before {load_before}, after {load_after}"
    )


if __name__ == "__main__":
    main()
