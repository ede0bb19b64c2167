#!/usr/bin/env python3
"""Generate independent reference values for the Hopfield models with NumPy.

Writes Tests/AttractorModelsTests/Reference/hopfield_reference.json, which the Swift test
ReferenceValueTests compares against with tolerances. The formulas here are written from
Ramsauer et al. (arXiv 2008.02217) and Hopfield (1982) directly, not translated from the Swift
code, so the comparison is a check of one implementation against another.

Run:  python3 Scripts/generate_reference.py
"""
import json
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/AttractorModelsTests/Reference/hopfield_reference.json"


def lse(z):
    m = z.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def modern_case(rng, n_patterns, dim, beta, n_queries):
    X = rng.standard_normal((n_patterns, dim)) / np.sqrt(dim)  # rows are patterns
    Q = rng.standard_normal((n_queries, dim)) / np.sqrt(dim)
    M = np.linalg.norm(X, axis=1).max()
    logits = beta * Q @ X.T
    energy = -lse(logits) / beta + 0.5 * (Q * Q).sum(axis=1) + np.log(n_patterns) / beta + 0.5 * M**2
    P = softmax(logits)
    update = P @ X
    gradient = Q - update
    q0, p0 = Q[0], P[0]
    jacobian = beta * (X.T @ np.diag(p0) @ X - np.outer(X.T @ p0, X.T @ p0))
    hessian = np.eye(dim) - jacobian
    return {
        "patterns": X.tolist(),
        "queries": Q.tolist(),
        "beta": beta,
        "energy": energy.tolist(),
        "gradient": gradient.tolist(),
        "update": update.tolist(),
        "energy_after_update": (
            -lse(beta * update @ X.T) / beta + 0.5 * (update * update).sum(axis=1) + np.log(n_patterns) / beta + 0.5 * M**2
        ).tolist(),
        "jacobian_query0": jacobian.tolist(),
        "jacobian_eigenvalues_query0": np.linalg.eigh(jacobian)[0].tolist(),
        "hessian_eigenvalues_query0": np.linalg.eigh(hessian)[0].tolist(),
    }


def classical_case(rng, n_patterns, dim, n_queries):
    P = np.where(rng.standard_normal((n_patterns, dim)) >= 0, 1.0, -1.0)
    W = P.T @ P / dim
    np.fill_diagonal(W, 0.0)
    S = np.where(rng.standard_normal((n_queries, dim)) >= 0, 1.0, -1.0)
    fields = S @ W
    update = np.where(fields > 0, 1.0, np.where(fields < 0, -1.0, S))
    return {
        "patterns": P.tolist(),
        "states": S.tolist(),
        "energy": (-0.5 * np.einsum("bi,ij,bj->b", S, W, S)).tolist(),
        "synchronous_update": update.tolist(),
        "weight_eigenvalues": np.linalg.eigh(W)[0].tolist(),
    }


def main():
    rng = np.random.default_rng(20261123)
    doc = {
        "GENERATED": "by Scripts/generate_reference.py; do not edit by hand",
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "seed": 20261123,
        "modern": [
            modern_case(rng, n_patterns=12, dim=8, beta=0.5, n_queries=5),
            modern_case(rng, n_patterns=30, dim=16, beta=4.0, n_queries=5),
            modern_case(rng, n_patterns=7, dim=5, beta=40.0, n_queries=5),
        ],
        "classical": [classical_case(rng, n_patterns=5, dim=40, n_queries=6)],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
