#!/usr/bin/env python3
"""Independent NumPy reference values for in-context denoising (Smart, Bietti & Sengupta, arXiv 2502.05164).

Writes Tests/AttractorExperimentsTests/Reference/in_context_reference.json (GENERATED), which the Swift
test InContextReferenceTests compares against:

1. one forward and backward pass of one-layer attention (linear and softmax, full W_KQ and W_PV) on a
   fixed random batch: outputs, loss (1/B) sum ||f - x||^2 and both gradients (compared to rounding);
2. the context energy E(s) = ||s||^2/(2 alpha) - beta^-1 log sum_t exp(beta x_t.s), its gradient and
   Hessian at a few states (to rounding);
3. statistics of the three task generators, drawn here with NumPy's own generator from the written
   definitions of the tasks (not from the Swift code): E||x||^2, E||x~ - x||^2, E(x_t.x_t')^2 for two
   tokens of the same prompt and of different prompts, and the MSE of the Bayes-optimal denoiser and
   of the in-context denoiser, each with its standard error. The Swift test compares its own samples'
   statistics within 4.5 combined standard errors.

Run:  python3 Scripts/in_context_reference.py
"""
import json
import pathlib

import numpy as np
import math

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/AttractorExperimentsTests/Reference/in_context_reference.json"


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_case(rng, variant, B=3, L=5, n=4):
    X = rng.standard_normal((B, L, n)) / np.sqrt(n)
    q = rng.standard_normal((B, n)) / np.sqrt(n)
    x = rng.standard_normal((B, n)) / np.sqrt(n)
    Wkq = rng.standard_normal((n, n))
    Wpv = rng.standard_normal((n, n))
    # forward
    logits = np.einsum("bln,bn->bl", X, q @ Wkq.T)  # x_t . W_KQ q
    a = softmax(logits) if variant == "softmax" else logits / L
    v = np.einsum("bl,bln->bn", a, X)
    f = v @ Wpv.T
    r = f - x
    loss = (r * r).sum() / B
    # backward
    gf = 2 * r / B
    gWpv = gf.T @ v
    gv = gf @ Wpv
    ga = np.einsum("bln,bn->bl", X, gv)
    if variant == "softmax":
        gz = a * (ga - (a * ga).sum(axis=1, keepdims=True))
    else:
        gz = ga / L
    gu = np.einsum("bl,bln->bn", gz, X)
    gWkq = gu.T @ q
    return {
        "variant": variant,
        "contexts": X.reshape(B * L, n).tolist(),
        "queries": q.tolist(),
        "targets": x.tolist(),
        "keyQuery": Wkq.tolist(),
        "projectionValue": Wpv.tolist(),
        "outputs": f.tolist(),
        "loss": loss,
        "keyQueryGradient": gWkq.tolist(),
        "projectionValueGradient": gWpv.tolist(),
    }


def energy_case(rng, alpha, beta, L=7, n=5, states=3):
    X = rng.standard_normal((L, n)) / np.sqrt(n)
    S = rng.standard_normal((states, n))
    out = {"context": X.tolist(), "alpha": alpha, "beta": beta, "states": S.tolist(), "energy": [], "gradient": [], "hessian": []}
    for s in S:
        z = beta * X @ s
        m = z.max()
        lse = m + np.log(np.exp(z - m).sum())
        p = softmax(z)
        out["energy"].append(float(s @ s / (2 * alpha) - lse / beta))
        out["gradient"].append((s / alpha - X.T @ p).tolist())
        out["hessian"].append((np.eye(n) / alpha - beta * (X.T @ np.diag(p) @ X - np.outer(X.T @ p, X.T @ p))).tolist())
    return out


def bessel_i(nu, x, terms=400):
    """I_nu(x) (x > 0) by its power series sum_k (x/2)^(2k+nu) / (k! Gamma(k+nu+1)), in log space (independent
    of the continued fraction the Swift code uses)."""
    logs = [(2 * k + nu) * math.log(x / 2) - math.lgamma(k + 1) - math.lgamma(k + nu + 1) for k in range(terms)]
    m = max(logs)
    return sum(math.exp(v - m) for v in logs), m  # I_nu(x) = sum * exp(m)


def bessel_ratio(nu, x):
    (a, ma), (b, mb) = bessel_i(nu, x), bessel_i(nu - 1, x)
    return a / b * math.exp(ma - mb)


def random_basis(rng, n, d):
    q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    return q


def draw_prompt(rng, task):
    """L context tokens, one clean token x, and the task parameters, from the task's definition."""
    n, L = task["n"], task["L"]
    family = task["family"]
    count = L + 1
    if family == "subspace":
        U = random_basis(rng, n, task["d"])
        tokens = np.sqrt(task["signalVariance"]) * rng.standard_normal((count, task["d"])) @ U.T
        params = U
    elif family == "mixture":
        mu = rng.standard_normal((task["p"], n))
        mu /= np.linalg.norm(mu, axis=1, keepdims=True)
        labels = rng.integers(0, task["p"], count)
        tokens = mu[labels] + np.sqrt(task["signalVariance"]) * rng.standard_normal((count, n))
        params = mu
    else:
        U = random_basis(rng, n, task["d"])
        g = rng.standard_normal((count, task["d"]))
        tokens = task["R"] * (g / np.linalg.norm(g, axis=1, keepdims=True)) @ U.T
        params = U
    return tokens[:L], tokens[L], params


def bayes(task, params, q):
    s2 = task["noiseVariance"]
    if task["family"] == "subspace":
        c = task["signalVariance"] / (task["signalVariance"] + s2)
        return c * params @ (params.T @ q)
    if task["family"] == "mixture":
        total = task["signalVariance"] + s2
        c = task["signalVariance"] / total
        w = softmax(-((q - params) ** 2).sum(axis=1) / (2 * total))
        return c * q + (1 - c) * w @ params
    y = params.T @ q
    norm = np.linalg.norm(y)
    kappa = task["R"] * norm / s2
    nu = task["d"] / 2
    ratio = bessel_ratio(nu, kappa)
    return task["R"] * ratio * params @ y / norm


def in_context(task, X, q):
    L = X.shape[0]
    if task["family"] == "subspace":
        w, V = np.linalg.eigh(X.T @ X / L)
        top = V[:, -task["d"]:]
        c = task["signalVariance"] / (task["signalVariance"] + task["noiseVariance"])
        return c * top @ (top.T @ q)
    w = softmax(-((q - X) ** 2).sum(axis=1) / (2 * task["noiseVariance"]))
    return w @ X


def mean_se(values):
    v = np.asarray(values)
    return {"mean": float(v.mean()), "se": float(v.std(ddof=1) / np.sqrt(len(v)))}


def generator_statistics(rng, task, prompts):
    power, noise, same, other, bayes_err, ic_err = [], [], [], [], [], []
    previous = None
    for _ in range(prompts):
        X, x, params = draw_prompt(rng, task)
        q = x + np.sqrt(task["noiseVariance"]) * rng.standard_normal(task["n"])
        power.append(x @ x)
        noise.append((q - x) @ (q - x))
        same.append((X[0] @ X[1]) ** 2)
        if previous is not None:
            other.append((X[0] @ previous) ** 2)
        previous = X[0]
        e = bayes(task, params, q) - x
        bayes_err.append(e @ e)
        e = in_context(task, X, q) - x
        ic_err.append(e @ e)
    return {
        "task": task,
        "prompts": prompts,
        "signalPower": mean_se(power),
        "noisePower": mean_se(noise),
        "sameOverlap": mean_se(same),
        "otherOverlap": mean_se(other),
        "bayesMSE": mean_se(bayes_err),
        "inContextMSE": mean_se(ic_err),
    }


def main():
    rng = np.random.default_rng(20250207)
    tasks = [
        {"family": "subspace", "n": 8, "d": 3, "L": 30, "signalVariance": 2.0, "noiseVariance": 1.0},
        {"family": "mixture", "n": 6, "p": 4, "L": 30, "signalVariance": 0.05, "noiseVariance": 0.2},
        {"family": "spheres", "n": 6, "d": 3, "L": 30, "R": 1.5, "noiseVariance": 0.2},
    ]
    out = {
        "generated": "GENERATED by Scripts/in_context_reference.py; do not edit",
        "numpy": np.__version__,
        "attention": [attention_case(rng, "linear"), attention_case(rng, "softmax")],
        "energy": [energy_case(rng, 1.0, 1.0), energy_case(rng, 1.607, 0.194), energy_case(rng, 0.8, 5.0)],
        "generators": [generator_statistics(rng, t, 4000) for t in tasks],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
