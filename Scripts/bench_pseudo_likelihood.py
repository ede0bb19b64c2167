#!/usr/bin/env python3
"""Benchmark: one local-rule training epoch of the pseudo-likelihood attractor on 10,000 MNIST digits,
in Swift (`attractor train pseudo-likelihood --epochs 1`) and in NumPy, alternating sides.

Same algorithm and sizes on both sides: N = 25 tokens of d = 32 (the MNIST embedding of
Docs/PseudoLikelihood.md), minibatches of 100, couplings stored by source token (W_j = [J_0j; …;
J_{N-1,j}], N·d × d), per minibatch and source token j one GEMM F_j = X_j W_jᵀ (B × N·d), logits
λ x_i·F_j[i], a softmax over j, then per j one GEMM S_jᵀ X_j for the Hebbian term
⟨α_{i←j} x_i x_jᵀ⟩, the step J ← (1−ηκ)J + ηD and the projection onto Σ_j ‖J_ij‖_F ≤ 1/κ.
The Swift figure is the epoch's own time from the command's JSON (data loading excluded); the
NumPy figure times the same epoch on the same embedded digits (its own embedding: the cost does not
depend on the projection).

Both sides use the same number of BLAS threads (--threads, default 1; set before NumPy loads).

Run (after `swift build -c release` and `python3 Scripts/fetch_mnist.py`):
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
    parser.add_argument("--count", type=int, default=10000)
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np  # after the thread count is set

    n, d, lam, gamma, eta, kappa, batch = 25, 32, 4.0, 0.5, 0.5, 1.0, 100
    raw = open(os.path.join(args.mnist, "train-images-idx3-ubyte"), "rb").read()
    images = np.frombuffer(raw[16:], dtype=np.uint8).reshape(-1, 28, 28)[: args.count, 4:24, 4:24] / 255.0
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    patches = images.reshape(-1, 5, 4, 5, 4).transpose(0, 1, 3, 2, 4).reshape(-1, n, 16)
    u = np.stack([np.cos(np.pi / 2 * patches), np.sin(np.pi / 2 * patches)], -1).reshape(-1, n, d)
    data = ((u @ q.T) / 4).reshape(-1, n * d).astype(np.float32)

    def numpy_epoch():
        w = np.zeros((n, n * d, d), np.float32)  # w[j] = W_j, block i = J_ij
        order = rng.permutation(len(data))
        for start in range(0, len(data), batch):
            x = data[order[start : start + batch]]
            b = x.shape[0]
            xt = x.reshape(b, n, d)
            logits = np.empty((b, n, n), np.float32)
            for j in range(n):
                f = x[:, j * d : (j + 1) * d] @ w[j].T  # B x N·d
                logits[:, :, j] = lam * np.einsum("bia,bia->bi", xt, f.reshape(b, n, d))
            logits[:, np.arange(n), np.arange(n)] = -np.inf
            logits -= logits.max(axis=2, keepdims=True)
            alpha = np.exp(logits)
            alpha /= alpha.sum(axis=2, keepdims=True)
            w *= 1 - eta * kappa
            for j in range(n):
                s = (alpha[:, :, j, None] * xt).reshape(b, n * d)
                w[j] += (eta / b) * (s.T @ x[:, j * d : (j + 1) * d])
            norms = np.sqrt((w.reshape(n, n, d, d) ** 2).sum(axis=(2, 3))).sum(axis=0)  # per target i
            factor = np.minimum(1.0, (1 / kappa) / np.maximum(norms, 1e-30)).astype(np.float32)
            w *= np.repeat(factor, d)[None, :, None]
        return w

    def swift_epoch(folder):
        cmd = [
            args.binary, "train", "pseudo-likelihood", "--json", "--threads", str(args.threads), "--count",
            str(args.count), "--epochs", "1", "--beta", str(lam), "--gamma", str(gamma), "--weight-decay",
            str(kappa), "--learning-rate", str(eta), "--batch-size", str(batch), "--mnist", args.mnist,
            "--output-dir", folder,
        ]
        out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        return out["history"]["epochSeconds"][0]

    swift_times, numpy_times = [], []
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            swift_times.append(swift_epoch(os.path.join(tmp, f"round{r}")))
            t0 = time.perf_counter()
            numpy_epoch()
            numpy_times.append(time.perf_counter() - t0)
            print(f"round {r + 1}: Swift {swift_times[-1]:.2f} s, NumPy {numpy_times[-1]:.2f} s", flush=True)
    s, p = min(swift_times), min(numpy_times)
    print(
        f"one local-rule epoch, {args.count} digits, N = {n}, d = {d}, minibatch {batch}, {args.threads} BLAS thread(s): "
        f"Swift {s:.2f} s, NumPy {p:.2f} s (best of {args.rounds}); NumPy/Swift = {p / s:.2f}; "
        f"load average before {load_before}, after {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
