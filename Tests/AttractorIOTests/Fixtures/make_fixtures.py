#!/usr/bin/env python3
"""Regenerates the AttractorIO test fixtures in this directory.

Usage:  python3 Tests/AttractorIOTests/Fixtures/make_fixtures.py

The .npy files are written by NumPy itself (numpy.save / numpy.lib.format.write_array).
The .safetensors file is written by hand with struct + json, following the format
specification, because the `safetensors` Python package is not a dependency:

    8 bytes   N, little-endian u64
    N bytes   UTF-8 JSON header {"__metadata__": {...}, name: {"dtype", "shape", "data_offsets"}}
    rest      byte buffer; data_offsets are relative to its start

The expected values are repeated in AttractorIOFixtureTests.swift; keep the two in sync.
Output is deterministic: rerunning the script produces identical bytes.
"""

import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def save(name, array):
    np.save(path(name), array, allow_pickle=False)


def write_version(name, array, version):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=False)


def npy_fixtures():
    save("f32_2x3.npy", (np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1).astype("<f4"))
    save("f64_2x3x4.npy", np.arange(24, dtype="<f8").reshape(2, 3, 4) / 8)
    save("i32_vector.npy", np.array([-3, 0, 7, 2147483647, -2147483648], dtype="<i4"))
    save("i64_scalar.npy", np.array(-9007199254740993, dtype="<i8"))
    save("f64_empty_0x3.npy", np.zeros((0, 3), dtype="<f8"))
    write_version("f32_v2.npy", np.arange(4, dtype="<f4"), (2, 0))
    write_version("f64_v3.npy", np.arange(3, dtype="<f8") - 1.25, (3, 0))
    # Files the reader must refuse.
    save("f32_fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
    save("f4_bigendian.npy", np.arange(3, dtype=">f4"))
    with open(path("object.npy"), "wb") as f:
        np.save(f, np.array([1, "a"], dtype=object), allow_pickle=True)


def safetensors_fixture():
    # Deliberately not in name order: the reader must not assume sorted entries.
    tensors = [
        ("weight", "F32", [2, 3], (np.arange(6, dtype="<f4") * 0.25).astype("<f4")),
        ("bias", "F64", [3], np.array([0.5, -1.5, 2.25], dtype="<f8")),
        ("index", "I64", [4], np.array([0, 1, -1, 2**40], dtype="<i8")),
        ("count", "I32", [], np.array([42], dtype="<i4")),
        ("empty", "F32", [0, 4], np.zeros(0, dtype="<f4")),
    ]
    header = {"__metadata__": {"format": "pt", "note": "fixture"}}
    buffer = b""
    for name, dtype, shape, values in tensors:
        raw = values.tobytes()
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(buffer), len(buffer) + len(raw)]}
        buffer += raw
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path("example.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(buffer)


if __name__ == "__main__":
    npy_fixtures()
    safetensors_fixture()
