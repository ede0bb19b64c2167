#!/usr/bin/env python3
"""Reference values for the dense associative memory (Krotov & Hopfield 2016), computed
independently of the Swift code: straight from the paper's update formula

    sigma_i <- Sign[ sum_mu F( xi_i^mu + sum_{j != i} xi_j^mu sigma_j ) - F( -xi_i^mu + sum_{j != i} xi_j^mu sigma_j ) ]

with Python integers (exact, no table, no incremental overlaps) for the polynomial interactions and
float64 for the exponential (sizes small enough not to overflow). A zero difference keeps sigma_i.

Writes Tests/AttractorModelsTests/DAMReference/dam_reference.json (marked GENERATED).
Run: python3 Scripts/dam_reference.py
"""
import json
import math
import os

import numpy as np


def F(kind, p, x):
    if kind == "polynomial":
        return x ** p
    if kind == "rectified":
        return max(x, 0) ** p
    return math.exp(p * x)


def decision(kind, p, xi, sigma, i):
    total = 0
    for mu in range(xi.shape[0]):
        rest = int(xi[mu] @ sigma) - int(xi[mu, i]) * int(sigma[i])
        total += F(kind, p, int(xi[mu, i]) + rest) - F(kind, p, -int(xi[mu, i]) + rest)
    return 1 if total > 0 else (-1 if total < 0 else int(sigma[i]))


def energy(kind, p, xi, sigma):
    m = [int(v) for v in xi @ sigma]
    if kind == "exponential":
        top = max(m)
        return -(top + math.log(sum(math.exp(p * (v - top)) for v in m)) / p)
    return float(-sum(F(kind, p, v) for v in m))


def main():
    rng = np.random.default_rng(20261123)
    cases = []
    configs = [
        ("polynomial", 1, 9, 4), ("polynomial", 2, 16, 5), ("polynomial", 3, 24, 12), ("polynomial", 4, 20, 30),
        ("polynomial", 5, 30, 40), ("polynomial", 6, 31, 25), ("rectified", 1, 10, 3), ("rectified", 2, 16, 8),
        ("rectified", 3, 24, 20), ("rectified", 4, 25, 35), ("exponential", 1.0, 20, 10), ("exponential", 0.3, 32, 50),
    ]
    for kind, p, n, k in configs:
        xi = rng.choice([-1, 1], size=(k, n)).astype(np.int64)
        states = rng.choice([-1, 1], size=(6, n)).astype(np.int64)
        # Two starts near stored patterns (a few flips), the rest random.
        for r in range(2):
            s = xi[r].copy()
            flip = rng.choice(n, size=max(1, n // 8), replace=False)
            s[flip] *= -1
            states[r] = s
        sync = [[decision(kind, p, xi, s, i) for i in range(n)] for s in states]
        finals, sweeps = [], []
        for s in states:
            s = s.copy()
            count = 0
            while count < 200:
                count += 1
                changed = 0
                for i in range(n):  # fixed order 0..N-1
                    new = decision(kind, p, xi, s, i)
                    if new != s[i]:
                        s[i] = new
                        changed += 1
                if changed == 0:
                    break
            finals.append(s.tolist())
            sweeps.append(count)
        cases.append({
            "kind": kind, "parameter": p, "patterns": xi.tolist(), "states": states.tolist(),
            "energy": [energy(kind, p, xi, s) for s in states],
            "synchronous_update": sync, "asynchronous_final": finals, "asynchronous_sweeps": sweeps,
        })
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "AttractorModelsTests", "DAMReference", "dam_reference.json")
    with open(out, "w") as f:
        json.dump({"GENERATED": "by Scripts/dam_reference.py (NumPy %s); do not edit" % np.__version__, "cases": cases}, f)
    print("wrote", os.path.normpath(out), len(cases), "cases")


if __name__ == "__main__":
    main()
