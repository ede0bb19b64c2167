#!/usr/bin/env python3
"""Writes N random patterns of dimension d as a float32 .npy file, in chunks (seeded).

Entries are N(0, 1/d), like `attractor recall`'s random patterns (norms near 1). The file is
written chunk by chunk through a memory map (so N = 10^7 at d = 64, 2.5 GB, needs no more than one
chunk in memory) into a temporary file that is renamed at the end. The same seed, N, d and chunk
size always give the same bytes. Files go into the git-ignored Data/ folder by default.

    python3 Scripts/generate_patterns.py --count 10000000 --dimension 64   # Data/patterns-n10000000-d64.npy
"""
import argparse
import os
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, required=True, help="number of patterns N")
    parser.add_argument("--dimension", type=int, default=64, help="dimension d (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows generated at a time (default 10^6)")
    parser.add_argument("--output", help="file (default Data/patterns-n<N>-d<d>.npy)")
    args = parser.parse_args()
    if args.count < 1 or args.dimension < 1 or args.chunk < 1:
        parser.error("--count, --dimension and --chunk must be at least 1")
    path = args.output or os.path.join("Data", f"patterns-n{args.count}-d{args.dimension}.npy")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = path + ".partial"
    out = np.lib.format.open_memmap(temporary, mode="w+", dtype=np.float32, shape=(args.count, args.dimension))
    scale = 1 / np.sqrt(args.dimension)
    for k, start in enumerate(range(0, args.count, args.chunk)):
        end = min(args.count, start + args.chunk)
        rng = np.random.default_rng([args.seed, k])  # one stream per chunk: reproducible whatever the order
        out[start:end] = (rng.standard_normal((end - start, args.dimension)) * scale).astype(np.float32)
        out.flush()
    del out
    os.replace(temporary, path)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
