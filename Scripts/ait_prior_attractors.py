#!/usr/bin/env python3
"""At which inverse temperature β the upscaled priors of a trained AiT become attractors (issue 14).

Reads `workspace.memory` γ, `workspace.upscale` W_u and `workspace.upscaleBias` b_u from a model
folder written by `attractor train ait`, forms the stored patterns U = γ W_u + 1 b_u (M × E), and
for each β runs the modern Hopfield update ξ ← softmax(β U ξ)ᵀ U (Ramsauer et al. 2021; the
layer's retrieval) from every stored pattern ξ⁰ = U_m until it stops moving (‖Δξ‖ < 1e-10 or 5,000
steps). It prints, per β:

- the priors whose start ends on a fixed point that puts more than half of its softmax weight on
  that prior itself (a single-pattern attractor, "own");
- the number of distinct end points (rounded; 1 means every prior flows to one point, the
  global-average regime at small β);
- the largest softmax weight at the end point, averaged over the priors.

Also printed: the mean norm of U's rows and their mean distance to the mean row, and
β* = 1 / (mean squared distance of the rows to their mean): a scale, not a theorem, for where
separation can begin.

Usage: python3 Scripts/ait_prior_attractors.py FOLDER [β ...]   (default β: 0.5 1 2 4 8 16 32 64)
"""
import sys

import numpy as np

from ait_memory_spread import read_safetensors


def softmax(z):
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def run(u, beta, start, steps=5000):
    xi = start.copy()
    for _ in range(steps):
        p = softmax(beta * (u @ xi))
        nxt = p @ u
        if np.linalg.norm(nxt - xi) < 1e-10:
            xi = nxt
            break
        xi = nxt
    return xi, softmax(beta * (u @ xi))


def main(folder, betas):
    t = read_safetensors(f"{folder}/weights.safetensors")
    g = np.asarray(t["workspace.memory"], dtype=np.float64)
    u = g @ np.asarray(t["workspace.upscale"], dtype=np.float64) + np.asarray(t["workspace.upscaleBias"], np.float64)
    m = len(u)
    centred = u - u.mean(axis=0)
    spread = np.mean(np.sum(centred**2, axis=1))
    print(f"{folder}: M = {m}, E = {u.shape[1]}, mean ‖U_m‖ = {np.linalg.norm(u, axis=1).mean():.3f}, "
          f"mean ‖U_m − Ū‖ = {np.linalg.norm(centred, axis=1).mean():.3f}, β* = 1/mean‖U_m − Ū‖² = {1 / spread:.3f}")
    print()
    print("| β | priors that are their own attractor | distinct end points | mean largest weight at the end |")
    print("|---|---|---|---|")
    for beta in betas:
        own, ends, top = 0, [], []
        for k in range(m):
            xi, p = run(u, beta, u[k])
            own += int(p[k] > 0.5)
            ends.append(tuple(np.round(xi, 4)))
            top.append(p.max())
        print(f"| {beta:g} | {own} of {m} | {len(set(ends))} | {np.mean(top):.3f} |")


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    main(args[0], [float(b) for b in args[1:]] or [0.5, 1, 2, 4, 8, 16, 32, 64])
