#!/usr/bin/env python3
"""How spread out the memory of priors γ of trained AiT model folders is (issue 14).

For each model folder given (written by `attractor train ait`), reads `workspace.memory` (M × D,
unit rows) from weights.safetensors and prints:

- the mean pairwise cosine γ_i · γ_j over the M(M − 1)/2 pairs (what `train ait` prints);
- the mean |cosine| (a memory split into antipodal groups ±v has mean cosine near −1/(M − 1)
  but mean |cosine| near 1);
- the share of pairs with |cosine| > 0.99 (priors that coincide up to sign);
- the effective rank exp(H(p)), p_i = σ_i² / Σ σ², of γ's singular values (1 for a memory on one
  axis; about 19 for M = D = 32 independent Gaussian directions), and the share of the largest.

A reference row for M random Gaussian unit rows of width D (NumPy seed 0) is printed first. With
`--upscaled`, each folder gets a second row, "(U)", with the same figures for the upscaled priors
U = γ W_u + 1 b_u (M × E), the Hopfield retrieval's stored patterns, rows normalised for the cosines
(the effective rank is of U as it is).

With `--start FOLDER` (a model of the same seed and shape, e.g. after a single warm-up step), a
second table gives, for each folder, how far each prior moved from where it started: the mean and
the smallest cosine between prior m of the folder and prior m of FOLDER (1: the memory did not move).

Usage: python3 Scripts/ait_memory_spread.py [--upscaled] [--start FOLDER] FOLDER [FOLDER ...]
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = {"F32": np.float32, "F64": np.float64}[entry["dtype"]]
        tensors[name] = np.frombuffer(data[8 + length + start : 8 + length + end], dtype=dtype).reshape(entry["shape"])
    return tensors


def spread(g):
    g = np.asarray(g, dtype=np.float64)
    unit = g / np.linalg.norm(g, axis=1, keepdims=True)
    cos = unit @ unit.T
    pairs = np.triu_indices(len(g), 1)
    values = cos[pairs]
    s = np.linalg.svd(g, compute_uv=False)
    p = s**2 / np.sum(s**2)
    rank = float(np.exp(-np.sum(p * np.log(np.where(p > 0, p, 1)))))
    return values.mean(), np.abs(values).mean(), (np.abs(values) > 0.99).mean(), rank, p[0]


def row(name, stats):
    mean, absolute, same, rank, top = stats
    print(f"| {name} | {mean:.4f} | {absolute:.4f} | {same:.3f} | {rank:.2f} | {top:.3f} |")


def memory(folder):
    return np.asarray(read_safetensors(f"{folder}/weights.safetensors")["workspace.memory"], dtype=np.float64)


def upscaled(folder):
    t = read_safetensors(f"{folder}/weights.safetensors")
    w = np.asarray(t["workspace.upscale"], dtype=np.float64)
    b = np.asarray(t["workspace.upscaleBias"], dtype=np.float64)
    return memory(folder) @ w + b


def main(folders, start=None, with_upscaled=False):
    print("| model folder | mean cosine | mean abs cosine | pairs abs cos > 0.99 | effective rank | largest share |")
    print("|---|---|---|---|---|---|")
    shape = None
    rows = []
    for folder in folders:
        g = read_safetensors(f"{folder}/weights.safetensors")["workspace.memory"]
        shape = g.shape
        rows.append((folder, spread(g)))
    if shape is not None:
        rng = np.random.default_rng(0)
        r = rng.standard_normal(shape)
        r /= np.linalg.norm(r, axis=1, keepdims=True)
        row(f"(reference: {shape[0]} random Gaussian unit rows of width {shape[1]})", spread(r))
    for folder, stats in rows:
        row(folder, stats)
        if with_upscaled:
            row(f"{folder} (U)", spread(upscaled(folder)))
    if start is not None:
        g0 = memory(start)
        print()
        print(f"| model folder | mean cosine of prior m with its start ({start}) | smallest |")
        print("|---|---|---|")
        for folder in folders:
            same = np.sum(memory(folder) * g0, axis=1)
            print(f"| {folder} | {same.mean():.4f} | {same.min():.4f} |")


if __name__ == "__main__":
    args = sys.argv[1:]
    start, with_upscaled = None, False
    while args and args[0].startswith("--"):
        if args[0] == "--upscaled":
            with_upscaled, args = True, args[1:]
        elif args[0] == "--start" and len(args) >= 2:
            start, args = args[1], args[2:]
        else:
            sys.exit(__doc__)
    if not args:
        sys.exit(__doc__)
    main(args, start, with_upscaled)
