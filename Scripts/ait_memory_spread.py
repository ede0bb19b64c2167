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

A reference row for M random Gaussian unit rows of width D (NumPy seed 0) is printed first.
Usage: python3 Scripts/ait_memory_spread.py FOLDER [FOLDER ...]
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
    cos = g @ g.T
    pairs = np.triu_indices(len(g), 1)
    values = cos[pairs]
    s = np.linalg.svd(g, compute_uv=False)
    p = s**2 / np.sum(s**2)
    rank = float(np.exp(-np.sum(p * np.log(np.where(p > 0, p, 1)))))
    return values.mean(), np.abs(values).mean(), (np.abs(values) > 0.99).mean(), rank, p[0]


def row(name, stats):
    mean, absolute, same, rank, top = stats
    print(f"| {name} | {mean:.4f} | {absolute:.4f} | {same:.3f} | {rank:.2f} | {top:.3f} |")


def main(folders):
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


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
