#!/usr/bin/env python3
"""Benchmark: one training step (forward, backward, AdamW) of the small Associative Transformer (AiT)
and of the plain vision transformer of the same size, in Swift and in NumPy, alternating sides.

The models are those of `attractor train ait` with its defaults (Docs/AssociativeTransformer.md):
28 x 28 images in 4 x 4 patches (N = 49 tokens of width E = 64), learned positions, two pre-LN blocks
(4-head self-attention with a fused QKV projection, GELU feed-forward 64 -> 128 -> 64), mean pooling,
LayerNorm, a linear head, cross-entropy; the AiT adds the global-workspace layer after block 1: squash
W_s (E -> D = 32), M = 32 priors, a 4-head bottleneck attention of the priors over each image's
patches with top-k (k = 16) masking, the balance loss (c = 0.01), the EMA memory update (mu = 0.9),
the upscaling U = gamma W_u + b_u and T = 3 modern Hopfield steps xi <- softmax(beta xi U^T) U at
beta = 1, added back to the tokens. The step: forward in training mode (the memory takes its EMA
step first, as in the Swift layer), the backward pass by hand (the memory is a state without
gradient, so the bottleneck learns through the balance loss only: its value and output weights get
zero gradient, which NumPy does not compute), and AdamW (eta = 0.002, lambda = 0.05).

The NumPy side is written as one would write it in NumPy: every token-wise product one 2-D matmul
over the whole batch (B*N rows), attention as stacked matmuls on (B, H, N, d_h) arrays, the top-k
by argpartition, GELU with scipy.special.erf, float32 throughout.

Steps:
 1. `attractor bench ait --save-inputs DIR` writes each model (model folder), the batch and Swift's
    gradients and updated parameters of one step. NumPy reads them and recomputes the step (in
    float64) and checks: the loss, every parameter's gradient (relative error of the matrix,
    ||g_np - g_swift|| / ||g_np||), the memory after the EMA, and AdamW applied to Swift's gradient
    against Swift's updated parameters. `--check` stops here.
 2. --rounds rounds, each: the Swift command (`--json`, --repetitions timed steps after a warm-up,
    median) then the NumPy step in this process (float32, same weights and batch, --repetitions timed
    steps after a warm-up, median). The ratio NumPy / Swift (> 1: Swift faster) of the medians of the
    round medians is reported per model, with the per-round ratios.

Both sides use --threads BLAS threads (set before NumPy loads; `--threads` on the Swift side). The
Swift row softmax of the Hopfield step may use both cores whatever the BLAS thread count
(Matrix.softmaxRows splits large batches over the cores); NumPy's elementwise work runs on one.

Run (after `swift build -c release --product attractor`):
  python3 Scripts/bench_ait.py [--threads 1] [--rounds 3] [--repetitions 5] [--json FILE]
  python3 Scripts/bench_ait.py --check            # only the comparison of the two implementations
"""
import argparse
import json
import pathlib
import struct
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench_common  # noqa: E402

np = None  # imported after the thread count is set
erf = None


# ---------------------------------------------------------------------------------------------
# Files


def read_safetensors(path):
    """A .safetensors file as {name: ndarray} (F32, F64, I32, I64)."""
    data = pathlib.Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    start = 8 + length
    dtypes = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64}
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        a, b = entry["data_offsets"]
        out[name] = np.frombuffer(data[start + a : start + b], dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return out


class Model:
    """Configuration, parameters (Swift's names) and the AiT's memory, from a model folder."""

    def __init__(self, folder, dtype):
        folder = pathlib.Path(folder)
        config = json.loads((folder / "config.json").read_text())["configuration"]
        tensors = read_safetensors(folder / "weights.safetensors")
        self.config = config
        self.image = config["imageSize"]
        self.patch = config["patchSize"]
        self.side = self.image // self.patch
        self.n = self.side * self.side
        self.e = config["width"]
        self.depth = config["depth"]
        self.heads = config["heads"]
        self.eps = config["layerNormEpsilon"]
        self.ws = config.get("workspace")
        self.after = config.get("workspaceAfterBlock", 1)
        self.names = [k for k in tensors if k != "workspace.memory"]
        self.params = {k: np.array(tensors[k], dtype=dtype) for k in self.names}
        self.memory = np.array(tensors["workspace.memory"], dtype=dtype) if self.ws else None
        self.dtype = dtype


# ---------------------------------------------------------------------------------------------
# Layers: forward returns (output, cache); backward takes the cache and returns the input gradient,
# adding parameter gradients into `grads`.


def layer_norm(x, gain, bias, eps):
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    r = 1.0 / np.sqrt((xc * xc).mean(axis=1, keepdims=True) + eps)
    xh = xc * r
    return xh * gain + bias, (xh, r)


def layer_norm_backward(dy, cache, gain, grads, prefix):
    xh, r = cache
    grads[prefix + ".gain"] += (dy * xh).sum(axis=0, keepdims=True)
    grads[prefix + ".bias"] += dy.sum(axis=0, keepdims=True)
    gh = dy * gain
    return r * (gh - gh.mean(axis=1, keepdims=True) - xh * (gh * xh).mean(axis=1, keepdims=True))


def softmax_last(z):
    z = z - z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def attention(x, p, prefix, b, n, heads):
    e = x.shape[1]
    dh = e // heads
    qkv = x @ p[prefix + ".qkv_weight"] + p[prefix + ".qkv_bias"]
    qkv = qkv.reshape(b, n, 3, heads, dh).transpose(2, 0, 3, 1, 4)  # (3, B, H, N, dh)
    q, k, v = qkv[0], qkv[1], qkv[2]
    s = 1.0 / np.sqrt(dh)
    w = softmax_last((q * s) @ k.transpose(0, 1, 3, 2))  # (B, H, N, N)
    hc = (w @ v).transpose(0, 2, 1, 3).reshape(b * n, e)
    y = hc @ p[prefix + ".output_weight"] + p[prefix + ".output_bias"]
    return y, (q, k, v, w, hc)


def attention_backward(dy, x, cache, p, grads, prefix, b, n, heads):
    q, k, v, w, hc = cache
    e = x.shape[1]
    dh = e // heads
    s = 1.0 / np.sqrt(dh)
    grads[prefix + ".output_weight"] += hc.T @ dy
    grads[prefix + ".output_bias"] += dy.sum(axis=0, keepdims=True)
    dhc = (dy @ p[prefix + ".output_weight"].T).reshape(b, n, heads, dh).transpose(0, 2, 1, 3)
    dv = w.transpose(0, 1, 3, 2) @ dhc
    dw = dhc @ v.transpose(0, 1, 3, 2)
    da = w * (dw - (dw * w).sum(axis=-1, keepdims=True))
    dq = (da @ k) * s
    dk = (da.transpose(0, 1, 3, 2) @ q) * s
    dqkv = np.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(b * n, 3 * e)
    grads[prefix + ".qkv_weight"] += x.T @ dqkv
    grads[prefix + ".qkv_bias"] += dqkv.sum(axis=0, keepdims=True)
    return dqkv @ p[prefix + ".qkv_weight"].T


SQRT1_2 = 0.7071067811865476
INV_SQRT_2PI = 0.3989422804014327


def feed_forward(x, p, prefix):
    z = x @ p[prefix + ".input_weight"] + p[prefix + ".input_bias"]
    cdf = 0.5 * (1.0 + erf(z * SQRT1_2))
    h = z * cdf
    return h @ p[prefix + ".output_weight"] + p[prefix + ".output_bias"], (z, cdf, h)


def feed_forward_backward(dy, x, cache, p, grads, prefix):
    z, cdf, h = cache
    grads[prefix + ".output_weight"] += h.T @ dy
    grads[prefix + ".output_bias"] += dy.sum(axis=0, keepdims=True)
    dz = (dy @ p[prefix + ".output_weight"].T) * (cdf + z * np.exp(-0.5 * z * z) * INV_SQRT_2PI)
    grads[prefix + ".input_weight"] += x.T @ dz
    grads[prefix + ".input_bias"] += dz.sum(axis=0, keepdims=True)
    return dz @ p[prefix + ".input_weight"].T


def block(x, p, l, model, b):
    pre = f"blocks.{l}."
    a, c1 = layer_norm(x, p[pre + "attention_norm.gain"], p[pre + "attention_norm.bias"], model.eps)
    y, c2 = attention(a, p, pre + "attention", b, model.n, model.heads)
    mid = x + y
    f, c3 = layer_norm(mid, p[pre + "feed_forward_norm.gain"], p[pre + "feed_forward_norm.bias"], model.eps)
    y2, c4 = feed_forward(f, p, pre + "feed_forward")
    return mid + y2, (a, c1, c2, f, c3, c4)


def block_backward(dx, cache, p, grads, l, model, b):
    pre = f"blocks.{l}."
    a, c1, c2, f, c3, c4 = cache
    g = feed_forward_backward(dx, f, c4, p, grads, pre + "feed_forward")
    dx = dx + layer_norm_backward(g, c3, p[pre + "feed_forward_norm.gain"], grads, pre + "feed_forward_norm")
    g = attention_backward(dx, a, c2, p, grads, pre + "attention", b, model.n, model.heads)
    return dx + layer_norm_backward(g, c1, p[pre + "attention_norm.gain"], grads, pre + "attention_norm")


def cv2(v, n):
    """var (unbiased) / (mean^2 + 1e-10) over the last axis."""
    mean = v.mean(axis=-1)
    return v.var(axis=-1, ddof=1) / (mean * mean + 1e-10)


def workspace_forward(x, p, memory, ws, b, n, training):
    """The global-workspace layer: returns Y, the new memory, the balance loss and the cache."""
    m, d, heads, k = ws["priorCount"], ws["priorWidth"], ws["heads"], ws["bottleneck"]
    dh = d // heads
    s = 1.0 / np.sqrt(dh)
    squashed = x @ p["workspace.squash"]  # (B*N, D)
    keys = squashed @ p["workspace.key"]
    values = squashed @ p["workspace.value"]
    queries = memory @ p["workspace.query"]  # (M, D)
    qh = queries.reshape(m, heads, dh).transpose(1, 0, 2)  # (H, M, dh)
    kh = keys.reshape(b, n, heads, dh).transpose(0, 2, 1, 3)  # (B, H, N, dh)
    vh = values.reshape(b, n, heads, dh).transpose(0, 2, 1, 3)
    logits = (qh * s) @ kh.transpose(0, 1, 3, 2)  # (B, H, M, N)
    top = np.argpartition(-logits, k - 1, axis=-1)[..., :k]
    mask = np.zeros(logits.shape, dtype=bool)
    np.put_along_axis(mask, top, True, axis=-1)
    weights = softmax_last(np.where(mask, logits, -np.inf))
    c = ws["balanceCoefficient"]
    importance = weights.sum(axis=2)  # (B, H, N)
    loads = mask.sum(axis=2).astype(x.dtype)
    balance = c * float((cv2(importance, n) + cv2(loads, n)).sum()) / b
    memory_used = memory
    if training and ws.get("memoryMomentum") is not None:
        if ws.get("memoryUpdate", "ema") != "ema":
            raise SystemExit("bench_ait.py implements the plain EMA memory update only")
        mu = ws["memoryMomentum"]
        heads_out = (weights @ vh).transpose(0, 2, 1, 3).reshape(b * m, d)
        out = heads_out @ p["workspace.output"]  # O, (B*M, D)
        new = mu * memory + (1 - mu) * out.reshape(b, m, d).mean(axis=0)
        memory_used = new / np.sqrt((new * new).sum(axis=1, keepdims=True))
    upscaled = memory_used @ p["workspace.upscale"] + p["workspace.upscaleBias"]  # (M, E)
    beta = ws["beta"]
    states, probs = [x], []
    xi = x
    for _ in range(ws["hopfieldSteps"]):
        pr = softmax_last((beta * xi) @ upscaled.T)  # (B*N, M)
        xi = pr @ upscaled
        states.append(xi)
        probs.append(pr)
    cache = (squashed, qh, kh, weights, importance, memory, memory_used, upscaled, states, probs)
    return x + xi, memory_used, balance, cache


def workspace_backward(dy, x, cache, p, ws, grads, b, n):
    squashed, qh, kh, weights, importance, memory, memory_used, upscaled, states, probs = cache
    m, d, heads = ws["priorCount"], ws["priorWidth"], ws["heads"]
    dh = d // heads
    s = 1.0 / np.sqrt(dh)
    beta = ws["beta"]
    # Hopfield retrieval, from the last step.
    dnext = dy
    du = np.zeros_like(upscaled)
    for t in range(len(probs) - 1, -1, -1):
        pr = probs[t]
        du += pr.T @ dnext
        dp = dnext @ upscaled.T
        dz = pr * (dp - (dp * pr).sum(axis=1, keepdims=True))
        du += beta * (dz.T @ states[t])
        dnext = beta * (dz @ upscaled)
    dx = dy + dnext
    grads["workspace.upscale"] += memory_used.T @ du
    grads["workspace.upscaleBias"] += du.sum(axis=0, keepdims=True)
    # Bottleneck: only the balance loss's importance term reaches it (O carries no gradient).
    c = ws["balanceCoefficient"]
    if c > 0 and n > 1:
        scale = c / b
        mean = importance.mean(axis=-1, keepdims=True)
        var = importance.var(axis=-1, ddof=1, keepdims=True)
        q = mean * mean + 1e-10
        g = scale * (2 * (importance - mean) / ((n - 1) * q) - 2 * var * mean / (n * q * q))  # (B, H, N)
        dw = np.broadcast_to(g[:, :, None, :], weights.shape)
        da = weights * (dw - (dw * weights).sum(axis=-1, keepdims=True))  # (B, H, M, N)
        dq = (s * (da @ kh)).sum(axis=0)  # (H, M, dh)
        dk = s * (da.transpose(0, 1, 3, 2) @ qh)  # (B, H, N, dh)
        dquery = dq.transpose(1, 0, 2).reshape(m, d)
        dkeys = dk.transpose(0, 2, 1, 3).reshape(b * n, d)
        grads["workspace.query"] += memory.T @ dquery
        grads["workspace.key"] += squashed.T @ dkeys
        dsq = dkeys @ p["workspace.key"].T
        grads["workspace.squash"] += x.T @ dsq
        dx = dx + dsq @ p["workspace.squash"].T
    return dx


def training_step(model, images, labels, grads, training=True):
    """Forward and backward of one batch; grads (zeroed here) receive the gradient. Returns
    (loss, cross-entropy, balance, new memory)."""
    p = model.params
    for g in grads.values():
        g.fill(0)
    b = images.shape[0]
    n, e, ps, side = model.n, model.e, model.patch, model.side
    patches = images.reshape(b, side, ps, side, ps).transpose(0, 1, 3, 2, 4).reshape(b * n, ps * ps)
    x = patches @ p["patch_embedding.weight"] + p["patch_embedding.bias"]
    x = (x.reshape(b, n, e) + p["positions"]).reshape(b * n, e)
    caches, inputs = [], []
    balance, new_memory, ws_cache, ws_input = 0.0, model.memory, None, None
    for l in range(model.depth):
        inputs.append(x)
        x, cache = block(x, p, l, model, b)
        caches.append(cache)
        if model.ws and l + 1 == model.after:
            ws_input = x
            x, new_memory, balance, ws_cache = workspace_forward(x, p, model.memory, model.ws, b, n, training)
    pooled = x.reshape(b, n, e).mean(axis=1)
    z, cf = layer_norm(pooled, p["final_norm.gain"], p["final_norm.bias"], model.eps)
    logits = z @ p["head.weight"] + p["head.bias"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=1))
    rows = np.arange(b)
    ce = float((lse - shifted[rows, labels]).mean())
    dlogits = softmax_last(logits.copy())
    dlogits[rows, labels] -= 1
    dlogits /= b
    # Backward.
    grads["head.weight"] += z.T @ dlogits
    grads["head.bias"] += dlogits.sum(axis=0, keepdims=True)
    dpooled = layer_norm_backward(dlogits @ p["head.weight"].T, cf, p["final_norm.gain"], grads, "final_norm")
    dx = np.repeat(dpooled / n, n, axis=0)
    for l in range(model.depth - 1, -1, -1):
        if model.ws and l + 1 == model.after:
            dx = workspace_backward(dx, ws_input, ws_cache, p, model.ws, grads, b, n)
        dx = block_backward(dx, caches[l], p, grads, l, model, b)
    grads["patch_embedding.weight"] += patches.T @ dx
    grads["patch_embedding.bias"] += dx.sum(axis=0, keepdims=True)
    grads["positions"] += dx.reshape(b, n, e).sum(axis=0)
    return ce + balance, ce, balance, new_memory


class AdamW:
    """m <- b1 m + (1-b1) g, v <- b2 v + (1-b2) g^2, theta <- theta - eta (m/c1 / (sqrt(v/c2) + eps) + lam theta)."""

    def __init__(self, params, lr=2e-3, weight_decay=0.05, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.wd, self.b1, self.b2, self.eps = lr, weight_decay, b1, b2, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def update(self, params, grads):
        self.t += 1
        c1, c2 = 1 - self.b1**self.t, 1 - self.b2**self.t
        for k, theta in params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * (g * g)
            theta -= self.lr * ((m / c1) / (np.sqrt(v / c2) + self.eps) + self.wd * theta)


# ---------------------------------------------------------------------------------------------


def check(folder, variant):
    """Recomputes Swift's step in float64; returns the comparison and raises on a failed tolerance."""
    model = Model(folder / "model", np.float64)
    step = read_safetensors(folder / "step.safetensors")
    record = json.loads((folder / "step.json").read_text())
    images = step["images"].astype(np.float64)
    labels = step["labels"].astype(np.int64)
    grads = {k: np.zeros_like(v) for k, v in model.params.items()}
    loss, ce, balance, memory = training_step(model, images, labels, grads)
    result = {"variant": variant, "lossNumPy": loss, "lossSwift": record["loss"], "gradients": {}}
    worst = 0.0
    for k in model.names:
        ref, sw = grads[k], step["gradient." + k].astype(np.float64)
        norm = np.linalg.norm(ref)
        err = float(np.linalg.norm(ref - sw) / norm) if norm > 0 else float(np.linalg.norm(sw))
        result["gradients"][k] = err
        worst = max(worst, err)
    result["worstGradientRelativeError"] = worst
    result["lossRelativeError"] = abs(loss - record["loss"]) / abs(loss)
    if memory is not None:
        result["memoryMaxAbsError"] = float(np.abs(memory - step["updated.workspace.memory"]).max())
    # AdamW on Swift's own gradient (float32, as Swift) against Swift's updated parameters.
    params32 = {k: model.params[k].astype(np.float32) for k in model.names}
    g32 = {k: step["gradient." + k].astype(np.float32) for k in model.names}
    opt = AdamW(params32, lr=record["learningRate"], weight_decay=record["weightDecay"], b1=record["beta1"],
                b2=record["beta2"], eps=record["epsilon"])
    opt.update(params32, g32)
    result["adamwMaxAbsError"] = float(max(np.abs(params32[k] - step["updated." + k]).max() for k in model.names))
    tolerances = {"lossRelativeError": 1e-5, "worstGradientRelativeError": 1e-4, "memoryMaxAbsError": 1e-5,
                  "adamwMaxAbsError": 1e-6}
    result["tolerances"] = tolerances
    print(f"check {variant}: loss NumPy {loss:.7f}, Swift {record['loss']:.7f} (rel. {result['lossRelativeError']:.1e}); "
          f"worst gradient rel. error {worst:.1e} ({max(result['gradients'], key=result['gradients'].get)}); "
          + (f"memory after EMA max |d| {result['memoryMaxAbsError']:.1e}; " if memory is not None else "")
          + f"AdamW max |d| {result['adamwMaxAbsError']:.1e}", flush=True)
    failed = [k for k, tol in tolerances.items() if k in result and not result[k] <= tol]
    if failed:
        raise SystemExit(f"NumPy and Swift differ for {variant}: {failed} above {[tolerances[k] for k in failed]}")
    return result


def numpy_median(folder, repetitions):
    """Median seconds of the float32 NumPy training step (forward, backward, AdamW) after one warm-up."""
    model = Model(folder / "model", np.float32)
    step = read_safetensors(folder / "step.safetensors")
    images = step["images"].astype(np.float32)
    labels = step["labels"].astype(np.int64)
    grads = {k: np.zeros_like(v) for k, v in model.params.items()}
    opt = AdamW(model.params)

    def one():
        _, _, _, memory = training_step(model, images, labels, grads)
        if memory is not None:
            model.memory = memory
        opt.update(model.params, grads)

    one()
    times = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        one()
        times.append(time.perf_counter() - t0)
    return bench_common.median(times)


def main():
    global np, erf
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=str(bench_common.ROOT / ".build/release/attractor"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repetitions", type=int, default=5, help="timed steps per round and side (median)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workspace", default="gw,none")
    ap.add_argument("--check", action="store_true", help="only compare NumPy's step with Swift's")
    ap.add_argument("--json", default=bench_common.default_json("ait"))
    args = ap.parse_args()
    bench_common.set_blas_threads(args.threads)
    import numpy
    import scipy.special

    np, erf = numpy, scipy.special.erf
    variants = args.workspace.split(",")
    load_before = bench_common.load_average()
    common = ["--threads", str(args.threads), "--batch-size", str(args.batch_size), "--seed", str(args.seed),
              "--workspace", args.workspace]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        bench_common.run_swift([args.binary, "bench", "ait", "--json", "--repetitions", "1", "--save-inputs",
                                str(tmp)] + common)
        checks = [check(tmp / v, v) for v in variants]
        if args.check:
            return
        swift_rounds = {v: [] for v in variants}
        numpy_rounds = {v: [] for v in variants}
        swift_threads = None
        for r in range(args.rounds):
            s = bench_common.run_swift([args.binary, "bench", "ait", "--json", "--repetitions",
                                        str(args.repetitions)] + common)
            swift_threads = s["blasThreads"]
            for row in s["rows"]:
                swift_rounds[row["workspace"]].append(row["stepSeconds"])
            for v in variants:
                numpy_rounds[v].append(numpy_median(tmp / v, args.repetitions))
            print(f"round {r + 1}: " + "; ".join(
                f"{v}: Swift {swift_rounds[v][-1] * 1e3:.1f} ms, NumPy {numpy_rounds[v][-1] * 1e3:.1f} ms"
                for v in variants), flush=True)
    load_after = bench_common.load_average()
    med = bench_common.median
    print(f"\nOne training step (forward, backward, AdamW), B = {args.batch_size} random 28 x 28 images, float32; "
          f"{args.rounds} rounds alternating Swift and NumPy, each a median of {args.repetitions} steps after a "
          f"warm-up; Swift reports {swift_threads} BLAS thread(s)\n")
    print("| model | Swift step (ms) | NumPy step (ms) | NumPy / Swift | per round |")
    print("|---|---:|---:|---:|---|")
    rows = []
    for v in variants:
        s, n = med(swift_rounds[v]), med(numpy_rounds[v])
        per = ", ".join(f"{a / b:.2f}" for a, b in zip(numpy_rounds[v], swift_rounds[v]))
        name = "AiT (gw)" if v == "gw" else "plain ViT (none)"
        print(f"| {name} | {s * 1e3:.1f} | {n * 1e3:.1f} | {n / s:.2f} | {per} |")
        rows.append({"workspace": v, "swiftRoundMedians": swift_rounds[v], "numpyRoundMedians": numpy_rounds[v],
                     "ratioNumPyOverSwift": n / s})
    print("")
    result = bench_common.summary(
        "ait", [x for v in variants for x in swift_rounds[v]], [x for v in variants for x in numpy_rounds[v]],
        args.threads, load_before, load_after,
        extra={"rows": rows, "checks": checks, "batchSize": args.batch_size, "swiftBlasThreads": swift_threads})
    bench_common.write_json(args.json, result)
    print(f"(the overall ratio pools the models; the table gives each) wrote {args.json}")


if __name__ == "__main__":
    main()
