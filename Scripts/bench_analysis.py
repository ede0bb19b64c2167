#!/usr/bin/env python3
"""Benchmark: classify 1,000 fixed points (d = 64, N = 1,000 patterns) in Swift and in NumPy.

Runs `attractor bench classify`, which times the Swift classification (batched Jacobians, one
LAPACK eigenvalue call per point: the Hessian's eigenvalues are 1 - those of J since H = I - J;
weight statistics, nearest pattern; points on as many workers as --threads, which call no BLAS)
and saves its inputs; then times the computation in NumPy on the same patterns and points, checks
that the two agree, and prints both figures and the ratio. Rounds alternate the two sides.

NumPy, as a user would write it (the reference of issue 15):
  P = softmax(beta S X^T)                        (K x N weights)
  J_k = beta (X^T diag(p_k) X - m_k m_k^T): upper triangles of all K blocks as one GEMM
        beta P U, U[mu] = (x_mu,i x_mu,j for i <= j), unpacked to symmetric blocks, minus beta m m^T
  symmetry test ||J - J^T||_F / ||J||_F, eigenvalues of J and of H = I - J (two eigvalsh calls)
  k90 from sorted weights, entropy, participation ratio, nearest pattern, distance to the mean
Also timed, for comparison: the same NumPy with the Swift side's shortcut (one eigvalsh, H's
eigenvalues 1 - reversed J's), so the table separates the algorithm from the implementation.

Both sides use the same number of BLAS threads (--threads, default 1; set before NumPy loads).
NumPy's eigvalsh loops over the K matrices on one thread whatever that number; the Swift side
classifies the points on --threads threads.

Run (after `swift build -c release --product attractor`):
  python3 Scripts/bench_analysis.py [--binary .build/release/attractor] [--threads 1] [--json FILE]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_common  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--binary", default=str(root / ".build/release/attractor"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repetitions", type=int, default=5, help="timed runs per round and side")
    parser.add_argument("--rounds", type=int, default=3, help="rounds alternating Swift and NumPy (evens out machine load)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--dimension", type=int, default=64)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--beta", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=bench_common.default_json("classify"), help="JSON report path")
    args = parser.parse_args()

    bench_common.set_blas_threads(args.threads)
    import numpy as np  # after the thread count is set

    load_before = bench_common.load_average()

    def run_swift(save_dir=None):
        cmd = [
            args.binary, "bench", "classify", "--json", "--threads", str(args.threads),
            "--repetitions", str(args.repetitions), "--count", str(args.count), "--dimension", str(args.dimension),
            "--points", str(args.points), "--beta", str(args.beta), "--seed", str(args.seed),
        ] + (["--save-inputs", save_dir] if save_dir else [])
        return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

    with tempfile.TemporaryDirectory() as tmp:
        swift = run_swift(tmp)
        X = np.load(os.path.join(tmp, "patterns.npy"))
        S = np.load(os.path.join(tmp, "points.npy"))
        ref = json.load(open(os.path.join(tmp, "swift_results.json")))

    beta, mass = args.beta, ref["mass"]
    N, d = X.shape
    K = S.shape[0]

    iu0, iu1 = np.triu_indices(d)

    def classify(one_decomposition=False):
        Z = beta * (S @ X.T)
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        U = X[:, iu0] * X[:, iu1]  # upper half of the Khatri-Rao square, N x d(d+1)/2
        G = beta * (P @ U)
        J = np.empty((K, d, d))
        J[:, iu0, iu1] = G
        J[:, iu1, iu0] = G
        M = P @ X
        J -= beta * (M[:, :, None] * M[:, None, :])
        asym = np.sqrt(((J - J.transpose(0, 2, 1)) ** 2).sum(axis=(1, 2)) / (J ** 2).sum(axis=(1, 2)))
        assert (asym <= 1e-6).all()  # every Jacobian goes to the symmetric solver, as in Swift
        ej = np.linalg.eigvalsh(J)
        eh = 1 - ej[:, ::-1] if one_decomposition else np.linalg.eigvalsh(np.eye(d)[None, :, :] - J)
        rho = np.abs(ej).max(axis=1)
        Ps = -np.sort(-P, axis=1)
        k = (np.cumsum(Ps, axis=1) < mass * P.sum(axis=1, keepdims=True)).sum(axis=1) + 1
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.where(P > 0, P * np.log(P), 0).sum(axis=1)
        pr = 1 / (P * P).sum(axis=1)
        D2 = (S * S).sum(axis=1)[:, None] + (X * X).sum(axis=1)[None, :] - 2 * (S @ X.T)
        nearest = D2.argmin(axis=1)
        dist = np.sqrt(np.maximum(D2[np.arange(K), nearest], 0))
        to_mean = np.linalg.norm(S - X.mean(axis=0), axis=1)
        return rho, eh[:, 0], k, nearest, entropy, pr, dist, to_mean

    result = classify()  # warm-up
    classify(True)
    swift_times = list(swift["allSeconds"])
    numpy_times = []
    numpy_one_times = []
    for r in range(args.rounds):
        if r > 0:
            swift_times += run_swift()["allSeconds"]
        for _ in range(args.repetitions):
            t0 = time.perf_counter()
            result = classify()
            numpy_times.append(time.perf_counter() - t0)
        for _ in range(args.repetitions):
            t0 = time.perf_counter()
            classify(True)
            numpy_one_times.append(time.perf_counter() - t0)
    load_after = bench_common.load_average()
    rho, hmin, k, nearest = result[:4]

    agree_rho = float(np.abs(rho - np.array(ref["spectralRadius"])).max())
    agree_h = float(np.abs(hmin - np.array(ref["hessianSmallest"])).max())
    k_same = int((k == np.array(ref["k"])).sum())
    nearest_same = int((nearest == np.array(ref["nearestPattern"])).sum())

    med = bench_common.median
    print(f"Classify {K} fixed points, N = {N} patterns, d = {d}, beta = {beta}, float64")
    print(f"BLAS threads: {args.threads} (Swift reports {swift['blasThreads']}; its batch GEMMs use them and it classifies "
          f"the points on {swift['blasThreads']} worker(s) that call no BLAS); {args.rounds} rounds x {args.repetitions} "
          f"timed runs per side after a warm-up, rounds alternating Swift and NumPy")
    print("")
    print("| implementation | median (ms) | min (ms) | median per point (us) |")
    print("|---|---:|---:|---:|")
    print(f"| Swift (attractor bench classify) | {med(swift_times) * 1e3:.1f} | {min(swift_times) * 1e3:.1f} | "
          f"{med(swift_times) * 1e6 / K:.1f} |")
    print(f"| NumPy (eigvalsh of J and of I - J) | {med(numpy_times) * 1e3:.1f} | {min(numpy_times) * 1e3:.1f} | "
          f"{med(numpy_times) * 1e6 / K:.1f} |")
    print(f"| NumPy, one eigvalsh (H from J) | {med(numpy_one_times) * 1e3:.1f} | {min(numpy_one_times) * 1e3:.1f} | "
          f"{med(numpy_one_times) * 1e6 / K:.1f} |")
    print("")
    print(f"NumPy with one eigvalsh / Swift (time, medians): {med(numpy_one_times) / med(swift_times):.2f}")
    summary = bench_common.summary(
        "classify", swift_times, numpy_times, args.threads, load_before, load_after,
        extra={
            "numpyOneDecompositionSeconds": numpy_one_times,
            "ratioNumPyOneDecompositionOverSwift": med(numpy_one_times) / med(swift_times),
            "points": K, "patterns": N, "dimension": d, "beta": beta,
            "agreement": {"maxRhoDifference": agree_rho, "maxHessianSmallestDifference": agree_h,
                          "k90Equal": k_same, "nearestEqual": nearest_same},
        })
    print(f"agreement: max |rho diff| = {agree_rho:.2e}, max |min Hessian eigenvalue diff| = {agree_h:.2e}, "
          f"k90 equal for {k_same}/{K}, nearest pattern equal for {nearest_same}/{K}")
    bench_common.write_json(args.json, summary)
    print(f"wrote {args.json}")
    if agree_rho > 1e-10 or agree_h > 1e-10 or k_same != K or nearest_same != K:
        sys.exit("the Swift and NumPy results disagree")


if __name__ == "__main__":
    main()
