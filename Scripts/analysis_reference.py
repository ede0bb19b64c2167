#!/usr/bin/env python3
"""Generate independent reference values for the fixed-point analysis with NumPy.

Writes Tests/AttractorAnalysisTests/Reference/analysis_reference.json (marked GENERATED), which
the Swift test AnalysisReferenceTests compares against with tolerances:

- modern Hopfield (Ramsauer et al., arXiv 2008.02217): at a given state, the Jacobian
  J = beta X^T (diag p - p p^T) X with p = softmax(beta X xi), its eigenvalues by numpy.linalg.eigh,
  the Hessian eigenvalues of I - J, and the weight evidence (k90, entropy, participation ratio,
  nearest pattern and distance, distance to the mean);
- attention with separate query and key projections, f(xi) = X^T softmax(beta (X W_K)(W_Q xi)):
  its non-symmetric Jacobian beta X^T (diag p - p p^T) X W_K W_Q and numpy.linalg.eig eigenvalues
  (complex pairs).

The formulas are written from the paper, not translated from the Swift code.

Run:  python3 Scripts/analysis_reference.py
"""
import json
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/AttractorAnalysisTests/Reference/analysis_reference.json"


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def k_mass(p, mass=0.9):
    s = np.cumsum(np.sort(p)[::-1])
    return int(np.searchsorted(s, mass * p.sum()) + 1)


def modern_case(seed, n, d, beta):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    xi = rng.standard_normal(d) / np.sqrt(d)
    p = softmax(beta * X @ xi)
    m = X.T @ p
    J = beta * (X.T @ np.diag(p) @ X - np.outer(m, m))
    H = np.eye(d) - J
    dist = np.linalg.norm(X - xi, axis=1)
    return {
        "seed": seed,
        "beta": beta,
        "patterns": X.tolist(),
        "state": xi.tolist(),
        "jacobian_eigenvalues": np.linalg.eigh(J)[0].tolist(),
        "hessian_eigenvalues": np.linalg.eigh(H)[0].tolist(),
        "k90": k_mass(p),
        "entropy": float(-(p[p > 0] * np.log(p[p > 0])).sum()),
        "participation_ratio": float(1 / (p * p).sum()),
        "nearest_pattern": int(dist.argmin()),
        "distance_to_nearest": float(dist.min()),
        "distance_to_mean": float(np.linalg.norm(xi - X.mean(axis=0))),
    }


def rotation_pairs(d, angle):
    R = np.zeros((d, d))
    for k in range(0, d - 1, 2):
        c, s = np.cos(angle), np.sin(angle)
        R[k:k + 2, k:k + 2] = [[c, -s], [s, c]]
    return R


def projected_case(seed, n, d, beta, angle):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    WK = np.eye(d) + 0.3 * rng.standard_normal((d, d)) / np.sqrt(d)
    WQ = rotation_pairs(d, angle)
    xi = rng.standard_normal(d) / np.sqrt(d)
    K = X @ WK
    p = softmax(beta * K @ (WQ @ xi))
    S = np.diag(p) - np.outer(p, p)
    J = beta * X.T @ S @ K @ WQ
    w = np.linalg.eig(J)[0]
    return {
        "seed": seed,
        "beta": beta,
        "angle": angle,
        "patterns": X.tolist(),
        "key_projection": WK.tolist(),
        "query_projection": WQ.tolist(),
        "state": xi.tolist(),
        "jacobian": J.tolist(),
        "eigenvalues_re": w.real.tolist(),
        "eigenvalues_im": w.imag.tolist(),
    }


def main():
    doc = {
        "GENERATED": "by Scripts/analysis_reference.py with NumPy %s, Python %s; do not edit"
        % (np.__version__, sys.version.split()[0]),
        "modern": [modern_case(s, n, d, b) for s, n, d, b in [(0, 12, 6, 0.5), (1, 12, 6, 4.0), (2, 20, 8, 20.0)]],
        "projected": [projected_case(s, n, d, b, a) for s, n, d, b, a in [(3, 30, 4, 1.5, 1.2), (4, 25, 6, 3.0, 0.8)]],
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
