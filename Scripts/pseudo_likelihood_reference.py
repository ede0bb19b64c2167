#!/usr/bin/env python3
"""Independent NumPy implementation of the pseudo-likelihood attractor network (D'Amico & Negri,
arXiv:2409.16112) for reference values: attention, fields, the synchronous update, local energies,
one local-rule training step and one contrastive step (with the projection onto the coupling bound).

Writes Tests/AttractorModelsTests/Reference/pseudo_likelihood_reference.json (GENERATED; do not edit).
Run from the repository root: python3 Scripts/pseudo_likelihood_reference.py
"""
import json
import numpy as np


def unit_tokens(rng, b, n, d):
    x = rng.standard_normal((b, n, d))
    return x / np.linalg.norm(x, axis=2, keepdims=True)


def logits(J, x, lam):
    # J: (N, N, d, d) with J[i, j] = J_ij; x: (B, N, d). l[b, i, j] = lam x_i^T J_ij x_j.
    return lam * np.einsum("bia,ijac,bjc->bij", x, J, x)


def attention(J, x, lam):
    n = J.shape[0]
    l = logits(J, x, lam)
    l = np.where(np.eye(n, dtype=bool)[None], -np.inf, l)
    l = l - l.max(axis=2, keepdims=True)
    a = np.exp(l)
    return a / a.sum(axis=2, keepdims=True)


def fields(J, x, lam):
    a = attention(J, x, lam)
    jx = np.einsum("ijac,bjc->bija", J, x)  # J_ij x_j
    return np.einsum("bij,bija->bia", a, jx)


def update(J, x, lam, gamma):
    v = (1 - gamma) * fields(J, x, lam) + gamma * x
    return v / np.linalg.norm(v, axis=2, keepdims=True)


def local_energies(J, x, lam):
    n = J.shape[0]
    l = logits(J, x, lam)
    l = np.where(np.eye(n, dtype=bool)[None], -np.inf, l)
    m = l.max(axis=2, keepdims=True)
    return -(m[..., 0] + np.log(np.exp(l - m).sum(axis=2))) / lam


def hebbian(J, x, lam):
    a = attention(J, x, lam)
    return np.einsum("bij,bia,bjc->ijac", a, x, x) / x.shape[0]


def step(J, x, lam, gamma, eta, kappa, bound, cd_steps):
    direction = hebbian(J, x, lam)
    if cd_steps > 0:
        y = x
        for _ in range(cd_steps):
            y = update(J, y, lam, gamma)
        direction = direction - hebbian(J, y, lam)
    Jn = (1 - eta * kappa) * J + eta * direction
    n = J.shape[0]
    for i in range(n):
        norm = sum(np.linalg.norm(Jn[i, j]) for j in range(n) if j != i)
        if norm > bound:
            Jn[i] *= bound / norm
    for i in range(n):
        Jn[i, i] = 0
    return Jn


def case(seed, n, d, b, lam, gamma, eta, kappa, bound, scale):
    rng = np.random.default_rng(seed)
    J = rng.standard_normal((n, n, d, d)) * scale / np.sqrt(d)
    for i in range(n):
        J[i, i] = 0
    x = unit_tokens(rng, b, n, d)
    flat = lambda a: a.reshape(a.shape[0], -1).tolist()
    return {
        "tokens": n, "width": d, "lambda": lam, "gamma": gamma, "eta": eta, "kappa": kappa, "bound": bound,
        "couplings": J.reshape(n * n * d, d).tolist(),
        "states": flat(x),
        "attention": flat(attention(J, x, lam)),
        "fields": flat(fields(J, x, lam)),
        "update": flat(update(J, x, lam, gamma)),
        "local_energies": local_energies(J, x, lam).tolist(),
        "cost": float(local_energies(J, x, lam).sum(axis=1).mean()),
        "local_step": step(J, x, lam, gamma, eta, kappa, bound, 0).reshape(n * n * d, d).tolist(),
        "contrastive_step": step(J, x, lam, gamma, eta, kappa, bound, 2).reshape(n * n * d, d).tolist(),
    }


def main():
    doc = {
        "GENERATED": "by Scripts/pseudo_likelihood_reference.py; do not edit",
        "cases": [
            case(1, 4, 3, 5, 1.7, 0.3, 0.4, 0.1, 10.0, 1.5),
            case(2, 5, 2, 3, 4.0, 0.0, 0.8, 0.5, 0.7, 2.0),  # the projection acts
            case(3, 3, 4, 4, 0.5, 1.0, 0.2, 0.0, 3.0, 1.0),
        ],
    }
    with open("Tests/AttractorModelsTests/Reference/pseudo_likelihood_reference.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
