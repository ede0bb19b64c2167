#!/usr/bin/env python3
"""One iteration of an iterative-attention stack (Medium: L = 4 layers, H = 8 heads, d = 256) on
B = 1024 queries against M = 10,000 memory entries: `attractor bench iterative-attention`
beside a NumPy implementation of the same forward pass, on the same inputs, in one script.

For each BLAS thread count T (--threads, default 1,2):
  1. the Swift binary (--swift) builds its seeded random model, writes the projections, memory,
     queries and the output of one iteration as .npy (--save-inputs), and times `update` (median and
     min of --repetitions after a warm-up) beside the same cblas_sgemm calls without the softmax;
  2. a fresh Python process with OPENBLAS_NUM_THREADS=T (set before NumPy is imported) loads those
     files and times the same forward pass in NumPy float32, two ways:
       per-head:  a loop over heads on column slices, as the Swift model does (2-D GEMMs on strided
                  views, in-place softmax on one B x M array per head);
       batched:   all heads at once with 3-D matmul on (H, B, M) logits, as one would write it in a
                  framework;
     the projected memory K W_K, V W_V is computed once outside the timed loop on both sides (the
     Swift workspace does the same).
Agreement: the Swift output and the NumPy per-head output are compared with a float64 NumPy
evaluation of the same function on the same float32 inputs; each must satisfy
max |out - ref64| <= 1e-5 * max |ref64| (Float32, 4 layers, sums over M = 10,000), or the script
exits with status 1.

The forward pass, per layer l, on row vectors (z = x W):
    z = x W_Q;  for each head h (columns h*d_h ... (h+1)*d_h - 1):
        p_h = softmax_rows(s * z[:, h] (K W_K)[:, h]^T),  s = 1 / (tau sqrt(d_h))
        o[:, h] = p_h (V W_V)[:, h]
    x <- o W_O

GFLOP/s counts the GEMM operations only: L * (4 B d^2 + 4 B M d) (Q and output projections, logits,
attention x values); the softmax over L*H*B*M logits is not counted.

Rounds (--rounds, default 3) repeat steps 1 and 2 for every thread count, alternating the sides
(Swift T=1, NumPy T=1, Swift T=2, NumPy T=2, then again), so load from other processes falls on both;
each figure is the median of its round medians. A JSON report goes to --json (default
report-bench/iterative-attention.json).

Run:  python3 Scripts/bench_iterative.py --swift .build/release/attractor [--threads 1,2] [--rounds 3]
          [--layers 4 --heads 8 --width 256 --memory 10000 --batch 1024 --repetitions 10 --seed 0]
          [--pin]   # also confine each process to the first T cores with taskset
"""
import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_common  # noqa: E402

TOLERANCE = 1e-5


def median_and_min(fn, repetitions):
    fn()  # warm-up
    times = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    return med, times[0]


def load(directory, np):
    arrays = {name: np.load(os.path.join(directory, name + ".npy"))
              for name in ["queries", "keys", "values", "wq", "wk", "wv", "wo", "output"]}
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    return arrays, config


def forward_per_head(x, wq, wo, kp, vp, heads, scale, np):
    """One iteration, head by head on column slices (the Swift model's loop)."""
    layers = wq.shape[0]
    d = wq.shape[1]
    dh = d // heads
    for l in range(layers):
        z = x @ wq[l]
        z *= scale  # fold the logit scale into the B x d queries (cheaper than scaling B x M logits)
        o = np.empty_like(z)
        for h in range(heads):
            s = slice(h * dh, (h + 1) * dh)
            a = z[:, s] @ kp[l][:, s].T
            a -= a.max(axis=1, keepdims=True)
            np.exp(a, out=a)
            a /= a.sum(axis=1, keepdims=True)
            o[:, s] = a @ vp[l][:, s]
        x = o @ wo[l]
    return x


def gemm_only(x, wq, wo, kp, vp, heads, scale, np, buffers):
    """The GEMMs of forward_per_head alone, into preallocated buffers (NumPy's BLAS floor)."""
    layers = wq.shape[0]
    d = wq.shape[1]
    dh = d // heads
    z, o, a = buffers
    for l in range(layers):
        np.matmul(x, wq[l], out=z)
        for h in range(heads):
            s = slice(h * dh, (h + 1) * dh)
            np.matmul(z[:, s], kp[l][:, s].T, out=a)
            o[:, s] = a @ vp[l][:, s]
        x = o @ wo[l]
    return x


def forward_batched(x, wq, wo, kph, vph, heads, scale, np):
    """One iteration, all heads at once: (H, B, d_h) @ (H, d_h, M) -> (H, B, M) logits."""
    layers = wq.shape[0]
    b, d = x.shape
    dh = d // heads
    for l in range(layers):
        z = (x @ wq[l]) * scale
        zh = z.reshape(b, heads, dh).transpose(1, 0, 2)  # H x B x d_h
        a = np.matmul(zh, kph[l])  # H x B x M
        a -= a.max(axis=2, keepdims=True)
        np.exp(a, out=a)
        a /= a.sum(axis=2, keepdims=True)
        o = np.matmul(a, vph[l])  # H x B x d_h
        x = o.transpose(1, 0, 2).reshape(b, d) @ wo[l]
    return x


def openblas_runtime():
    """Configuration string, thread count and path of the OpenBLAS this process loaded (ctypes)."""
    with open("/proc/self/maps") as f:
        paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line})
    # NumPy 2.x wheels bundle scipy-openblas with prefixed, ILP64-suffixed symbols; a system
    # OpenBLAS has the plain names.
    names = [("scipy_openblas_get_config64_", "scipy_openblas_get_num_threads64_"),
             ("openblas_get_config64_", "openblas_get_num_threads64_"),
             ("openblas_get_config", "openblas_get_num_threads")]
    for path in paths:
        lib = ctypes.CDLL(path)
        for config_name, threads_name in names:
            if hasattr(lib, config_name) and hasattr(lib, threads_name):
                get_config = getattr(lib, config_name)
                get_config.restype = ctypes.c_char_p
                return get_config().decode().strip(), int(getattr(lib, threads_name)()), path
    return "unknown (no OpenBLAS found in /proc/self/maps)", None, None


def worker(args):
    """Times NumPy on the saved inputs in this process (OPENBLAS_NUM_THREADS set by the parent)."""
    import numpy as np

    arrays, config = load(args.worker, np)
    heads = int(config["heads"])
    scale = np.float32(config["logitScale"])
    x = arrays["queries"]
    wq, wk, wv, wo = arrays["wq"], arrays["wk"], arrays["wv"], arrays["wo"]
    layers = wq.shape[0]
    m, d = arrays["keys"].shape
    dh = d // heads
    kp = [arrays["keys"] @ wk[l] for l in range(layers)]  # once, outside the timed loop
    vp = [arrays["values"] @ wv[l] for l in range(layers)]
    kph = [np.ascontiguousarray(k.reshape(m, heads, dh).transpose(1, 2, 0)) for k in kp]  # H x d_h x M
    vph = [np.ascontiguousarray(v.reshape(m, heads, dh).transpose(1, 0, 2)) for v in vp]  # H x M x d_h

    out = forward_per_head(x, wq, wo, kp, vp, heads, scale, np)
    out_batched = forward_batched(x, wq, wo, kph, vph, heads, scale, np)
    per_head = median_and_min(lambda: forward_per_head(x, wq, wo, kp, vp, heads, scale, np), args.repetitions)
    batched = median_and_min(lambda: forward_batched(x, wq, wo, kph, vph, heads, scale, np), args.repetitions)
    buffers = (np.empty_like(x), np.empty_like(x), np.empty((x.shape[0], m), dtype=np.float32))
    gemm = median_and_min(lambda: gemm_only(x, wq, wo, kp, vp, heads, scale, np, buffers), args.repetitions)
    config_string, threads, library = openblas_runtime()
    np.save(os.path.join(args.worker, "numpy_output.npy"), out)
    np.save(os.path.join(args.worker, "numpy_batched_output.npy"), out_batched)
    print(json.dumps({
        "per_head_median": per_head[0], "per_head_min": per_head[1],
        "batched_median": batched[0], "batched_min": batched[1], "gemm_median": gemm[0], "gemm_min": gemm[1],
        "openblas_config": config_string, "openblas_threads": threads, "openblas_library": library,
        "numpy": np.__version__,
    }))


def reference64(directory, np):
    """The same function in float64 on the same float32 inputs."""
    arrays, config = load(directory, np)
    heads = int(config["heads"])
    f = {k: v.astype(np.float64) for k, v in arrays.items()}
    layers = f["wq"].shape[0]
    kp = [f["keys"] @ f["wk"][l] for l in range(layers)]
    vp = [f["values"] @ f["wv"][l] for l in range(layers)]
    return forward_per_head(f["queries"], f["wq"], f["wo"], kp, vp, heads, float(config["logitScale"]), np)


def relative_error(out, ref, np):
    return float(np.max(np.abs(out.astype(np.float64) - ref)) / np.max(np.abs(ref)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--swift", help="path of the release attractor binary")
    ap.add_argument("--threads", default="1,2", help="BLAS thread counts, comma-separated")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--memory", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--repetitions", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pin", action="store_true", help="run each process under taskset on the first T cores")
    ap.add_argument("--keep", help="directory to keep the .npy files in (default: a temporary one, removed)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds alternating Swift and NumPy")
    ap.add_argument("--json", default=bench_common.default_json("iterative-attention"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    if not args.swift:
        ap.error("--swift PATH (the release attractor binary) is required")
    if not (os.path.isfile(args.swift) and os.access(args.swift, os.X_OK)):
        ap.error(f"--swift {args.swift} is not an executable file (build with: swift build -c release)")
    try:
        thread_counts = [int(t) for t in args.threads.split(",")]
    except ValueError:
        ap.error(f"--threads takes comma-separated integers, got {args.threads!r}")
    if any(t < 1 for t in thread_counts):
        ap.error("--threads must be at least 1")
    if args.pin and not shutil.which("taskset"):
        ap.error("--pin needs taskset (util-linux)")

    import numpy as np  # not timed here: the timing runs in child processes with their own thread count

    directory = args.keep or tempfile.mkdtemp(prefix="attractor-bench-iterative-")
    os.makedirs(directory, exist_ok=True)
    load_before = os.getloadavg()
    rows = []
    errors = []
    reference = None
    worker_info = None
    rounds = {t: [] for t in thread_counts}
    try:
        for _ in range(args.rounds):
            for t in thread_counts:
                pin = ["taskset", "-c", f"0-{t - 1}"] if args.pin else []
                env = dict(os.environ, OPENBLAS_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
                swift = subprocess.run(
                    pin + [args.swift, "bench", "iterative-attention", "--layers", str(args.layers),
                           "--heads", str(args.heads), "--dimension", str(args.width), "--count", str(args.memory),
                           "--query-count", str(args.batch), "--repetitions", str(args.repetitions),
                           "--seed", str(args.seed), "--threads", str(t), "--json", "--save-inputs", directory],
                    check=True, capture_output=True, text=True, env=env)
                s = json.loads(swift.stdout)
                numpy_run = subprocess.run(
                    pin + [sys.executable, os.path.abspath(__file__), "--worker", directory,
                           "--repetitions", str(args.repetitions)],
                    check=True, capture_output=True, text=True, env=env)
                n = json.loads(numpy_run.stdout)
                worker_info = n
                rounds[t].append((s, n))
                if len(rounds[t]) == 1:
                    if reference is None:
                        reference = reference64(directory, np)
                    swift_error = relative_error(np.load(os.path.join(directory, "output.npy")), reference, np)
                    numpy_error = relative_error(np.load(os.path.join(directory, "numpy_output.npy")), reference, np)
                    batched_error = relative_error(
                        np.load(os.path.join(directory, "numpy_batched_output.npy")), reference, np)
                    errors.append((t, swift_error, numpy_error, batched_error))
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    med = bench_common.median
    for t in thread_counts:
        # One row per thread count: medians over the rounds of each figure.
        s = dict(rounds[t][0][0])
        n = dict(rounds[t][0][1])
        for key in ("updateMedianSeconds", "updateMinimumSeconds", "updateGFLOPS", "gemmGFLOPS"):
            s[key] = med([r[0][key] for r in rounds[t]])
        for key in ("per_head_median", "per_head_min", "batched_median", "gemm_median"):
            n[key] = med([r[1][key] for r in rounds[t]])
        rows.append((t, s, n))

    load_after = os.getloadavg()
    flops = rows[0][1]["gemmFlops"]
    print(f"# Iterative attention, one iteration: L = {args.layers}, H = {args.heads}, d = {args.width}, "
          f"M = {args.memory}, B = {args.batch}, seed {args.seed}, float32; cores {os.cpu_count()}"
          + (", each process pinned to the first T cores (taskset)" if args.pin else ""))
    print(f"# GEMM FLOPs per iteration L*(4*B*d^2 + 4*B*M*d) = {flops:.4g}; median (min) of {args.repetitions} "
          "runs after a warm-up; the projected memory is computed outside the timed loop on both sides")
    print(f"# NumPy {worker_info['numpy']}, BLAS at run time: {worker_info['openblas_config']} "
          f"({worker_info['openblas_library']})")
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        print(f"# numpy.show_config: blas {blas.get('name')} {blas.get('version')}")
    except Exception as e:  # older NumPy: no dict mode
        print(f"# numpy.show_config(mode='dicts') unavailable: {e}")
    ldd = subprocess.run(["ldd", args.swift], capture_output=True, text=True).stdout
    swift_blas = [os.path.realpath(line.split("=>")[-1].split("(")[0].strip()) for line in ldd.splitlines() if "openblas" in line]
    print(f"# Swift links {', '.join(swift_blas) or 'an OpenBLAS not found by ldd'}")
    print(f"# load average (1, 5, 15 min) before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (other processes share the cores)")
    for t, s, n in rows:
        if n["openblas_threads"] != t or s["blasThreads"] != t:
            print(f"# WARNING: asked for {t} BLAS threads; NumPy's OpenBLAS reports {n['openblas_threads']}, "
                  f"Swift's {s['blasThreads']}")
    print("")
    print("Times are median (min); ratio = NumPy median / Swift median (> 1: Swift faster); GFLOP/s count the GEMM FLOPs "
          "at the median time; GEMM = the same cblas_sgemm calls alone (Swift process, system OpenBLAS); "
          "NumPy GEMM = the same products alone in NumPy (its bundled OpenBLAS).")
    print("")
    print("| threads | Swift ms | NumPy ms | ratio NumPy/Swift | Swift GFLOP/s | GEMM GFLOP/s | NumPy batched ms | NumPy GFLOP/s | NumPy GEMM GFLOP/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t, s, n in rows:
        sw = s["updateMedianSeconds"]
        npm = n["per_head_median"]
        print(f"| {t} | {sw * 1e3:.1f} (min {s['updateMinimumSeconds'] * 1e3:.1f}) | "
              f"{npm * 1e3:.1f} (min {n['per_head_min'] * 1e3:.1f}) | {npm / sw:.2f} | {s['updateGFLOPS']:.1f} | "
              f"{s['gemmGFLOPS']:.1f} | {n['batched_median'] * 1e3:.1f} | {flops / npm / 1e9:.1f} | {flops / n['gemm_median'] / 1e9:.1f} |")
    print("")
    print(f"{args.rounds} round(s) alternating Swift and NumPy; ratio per round: "
          + "; ".join(f"T={t}: " + ", ".join(f"{r[1]['per_head_median'] / r[0]['updateMedianSeconds']:.2f}" for r in rounds[t])
                      for t in thread_counts))
    bench_common.write_json(args.json, {
        "benchmark": "iterative-attention", "layers": args.layers, "heads": args.heads, "width": args.width,
        "memory": args.memory, "batch": args.batch, "rounds": args.rounds, "cores": os.cpu_count(),
        "loadAverageBefore": [round(x, 2) for x in load_before], "loadAverageAfter": [round(x, 2) for x in load_after],
        "rows": [{"blasThreads": t, "swiftMedianSeconds": s["updateMedianSeconds"],
                  "numpyPerHeadMedianSeconds": n["per_head_median"], "numpyBatchedMedianSeconds": n["batched_median"],
                  "ratioNumPyOverSwift": n["per_head_median"] / s["updateMedianSeconds"],
                  "swiftRounds": [r[0]["updateMedianSeconds"] for r in rounds[t]],
                  "numpyRounds": [r[1]["per_head_median"] for r in rounds[t]]} for t, s, n in rows],
        "agreement": [{"blasThreads": t, "swift": se, "numpyPerHead": ne, "numpyBatched": be} for t, se, ne, be in errors],
    })
    print(f"wrote {args.json}")
    print("")
    print(f"Agreement with a float64 NumPy evaluation (max |out - ref64| / max |ref64|, tolerance {TOLERANCE:g}):")
    ok = True
    for t, se, ne, be in errors:
        print(f"  threads {t}: Swift {se:.2e}, NumPy per-head {ne:.2e}, NumPy batched {be:.2e}")
        ok = ok and se <= TOLERANCE and ne <= TOLERANCE and be <= TOLERANCE
    if not ok:
        print("FAILED: an output differs from the float64 reference by more than the tolerance", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
