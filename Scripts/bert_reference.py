#!/usr/bin/env python3
"""An independent NumPy forward pass of a Hugging Face BERT encoder, and the reference files the
Swift tests compare against.

    python3 Scripts/bert_reference.py tiny     writes a tiny random BERT (2 layers, width 16, 4 heads,
                                               bert.-prefixed tensors, the vocabulary of
                                               tiny_vocab.txt) to Tests/AttractorModelsTests/Reference/
                                               TinyBERT/ and its outputs for a batch of 3 sentences of
                                               different lengths to tiny_bert_reference.json
    python3 Scripts/bert_reference.py minilm   sentence embeddings of all-MiniLM-L6-v2 (Data/, from
                                               Scripts/fetch_minilm.py) for SENTENCES below, token ids
                                               from the model's tokenizer.json (needs `tokenizers`, see
                                               Scripts/wordpiece_reference.py), to minilm_embeddings.json
    python3 Scripts/bert_reference.py bench [--attractor PATH] [--repetitions N]
                                               forward time of 32 sentences × 128 tokens: this NumPy
                                               pass (float32) and `attractor bench encoder`, alternating

The forward pass is written from the BERT description, not from the Swift code: padded batch
(B, L), attention logits of padding keys set to −1e30 (Hugging Face adds the float minimum),
exact erf GELU (scipy.special.erf), LayerNorm with the configuration's eps, mean pooling over the
real tokens and L2 normalisation. References are computed in float64 from the float32 weights.
"""
import json
import math
import pathlib
import struct
import subprocess
import sys
import time

import numpy as np

try:
    from scipy.special import erf
except ImportError:  # pragma: no cover
    erf = np.vectorize(math.erf)

ROOT = pathlib.Path(__file__).resolve().parent.parent
REF = ROOT / "Tests" / "AttractorModelsTests" / "Reference"
MODEL = ROOT / "Data" / "all-MiniLM-L6-v2"

SENTENCES = [
    "A man is playing a guitar on the stage.",
    "Someone performs music with a guitar in front of an audience.",
    "The stock market fell sharply on Monday.",
    "Share prices dropped steeply at the start of the week.",
    "How do I bake bread at home?",
    "What is a simple recipe for homemade bread?",
    "The cat sleeps on the warm windowsill.",
    "Quantum computers use qubits instead of bits.",
    # Longer than the model's 256 tokens: sentence-transformers (and the Swift side) cut it there.
    " ".join(f"Sentence number {i} of a very long paragraph talks about rivers, bridges and trains."
             for i in range(1, 25)),
]


def read_safetensors(path):
    raw = pathlib.Path(path).read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return out


def write_safetensors(path, tensors):
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = np.ascontiguousarray(tensors[name])
        data = t.tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    pathlib.Path(path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def layer_norm(x, g, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * g + b


def forward(w, config, batch, prefix="", dtype=np.float64):
    """Padded forward pass. Returns (hidden (B, L, d), attentions [layer](B, H, L, L), embeddings (B, d))."""
    def p(name):
        return w[prefix + name].astype(dtype, copy=False)
    d, H = config["hidden_size"], config["num_attention_heads"]
    dh, eps = d // H, config["layer_norm_eps"]
    B, L = len(batch), max(len(s) for s in batch)
    ids = np.zeros((B, L), dtype=np.int64)
    mask = np.zeros((B, L), dtype=bool)
    for i, s in enumerate(batch):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = True
    x = p("embeddings.word_embeddings.weight")[ids] + p("embeddings.position_embeddings.weight")[:L][None] \
        + p("embeddings.token_type_embeddings.weight")[0][None, None]
    x = layer_norm(x, p("embeddings.LayerNorm.weight"), p("embeddings.LayerNorm.bias"), eps)
    bias = np.where(mask, 0.0, -1e30).astype(dtype)[:, None, None, :]  # (B, 1, 1, L) over keys
    attentions = []
    for l in range(config["num_hidden_layers"]):
        q_ = f"encoder.layer.{l}."

        def lin(z, name):
            # As one 2-D product: a 3-D array times a transposed weight view would take NumPy's
            # slow stacked-matmul loop instead of one BLAS GEMM.
            w_, b_ = p(q_ + name + ".weight"), p(q_ + name + ".bias")
            return (z.reshape(-1, z.shape[-1]) @ w_.T + b_).reshape(*z.shape[:-1], w_.shape[0])

        def heads(z):
            return z.reshape(B, L, H, dh).transpose(0, 2, 1, 3)
        # Contiguous copies: NumPy's stacked matmul uses BLAS only on contiguous blocks (on
        # transposed views it falls back to a loop about 35 times slower).
        q = np.ascontiguousarray(heads(lin(x, "attention.self.query")))
        k_t = np.ascontiguousarray(heads(lin(x, "attention.self.key")).transpose(0, 1, 3, 2))
        v = np.ascontiguousarray(heads(lin(x, "attention.self.value")))
        logits = q @ k_t / math.sqrt(dh) + bias
        logits -= logits.max(-1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(-1, keepdims=True)
        attentions.append(prob)
        ctx = (prob @ v).transpose(0, 2, 1, 3).reshape(B, L, d)
        a = layer_norm(x + lin(ctx, "attention.output.dense"), p(q_ + "attention.output.LayerNorm.weight"),
                       p(q_ + "attention.output.LayerNorm.bias"), eps)
        h = lin(a, "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
        x = layer_norm(a + lin(h, "output.dense"), p(q_ + "output.LayerNorm.weight"), p(q_ + "output.LayerNorm.bias"),
                       eps)
    m = mask[..., None].astype(dtype)
    pooled = (x * m).sum(1) / m.sum(1)
    emb = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return x, attentions, emb


def tiny():
    vocab = (REF / "tiny_vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    config = {"architectures": ["BertForMaskedLM"], "model_type": "bert", "hidden_size": 16, "num_hidden_layers": 2,
              "num_attention_heads": 4, "intermediate_size": 24, "vocab_size": len(vocab),
              "max_position_embeddings": 40, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
              "position_embedding_type": "absolute", "pad_token_id": 0, "hidden_dropout_prob": 0.1}
    rng = np.random.default_rng(12)
    d, I, V = 16, 24, len(vocab)

    def r(*shape, s=0.5):
        return (rng.standard_normal(shape) * s).astype(np.float32)
    w = {"embeddings.word_embeddings.weight": r(V, d), "embeddings.position_embeddings.weight": r(40, d),
         "embeddings.token_type_embeddings.weight": r(2, d),
         "embeddings.LayerNorm.weight": 1 + r(d, s=0.1), "embeddings.LayerNorm.bias": r(d, s=0.1),
         "embeddings.position_ids": np.arange(40, dtype=np.int64)[None]}
    for l in range(2):
        q_ = f"encoder.layer.{l}."
        for part in ["query", "key", "value"]:
            w[q_ + f"attention.self.{part}.weight"] = r(d, d)
            w[q_ + f"attention.self.{part}.bias"] = r(d, s=0.2)
        w[q_ + "attention.output.dense.weight"] = r(d, d, s=0.3)
        w[q_ + "attention.output.dense.bias"] = r(d, s=0.1)
        w[q_ + "intermediate.dense.weight"] = r(I, d)
        w[q_ + "intermediate.dense.bias"] = r(I, s=0.2)
        w[q_ + "output.dense.weight"] = r(d, I, s=0.3)
        w[q_ + "output.dense.bias"] = r(d, s=0.1)
        for ln in ["attention.output.LayerNorm", "output.LayerNorm"]:
            w[q_ + ln + ".weight"] = 1 + r(d, s=0.1)
            w[q_ + ln + ".bias"] = r(d, s=0.1)
    prefixed = {"bert." + k: v for k, v in w.items()}
    prefixed["cls.predictions.bias"] = r(V, s=0.1)  # a task head the encoder must ignore
    folder = REF / "TinyBERT"
    folder.mkdir(parents=True, exist_ok=True)
    write_safetensors(folder / "model.safetensors", prefixed)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    batch = [[2] + rng.integers(5, V, size=n - 2).tolist() + [3] for n in (7, 12, 3)]
    hidden, att, emb = forward(w, config, batch)
    out = {"generated": "by Scripts/bert_reference.py tiny; do not edit",
           "ids": batch,
           "hidden": [hidden[i, :len(s)].ravel().tolist() for i, s in enumerate(batch)],
           "lastLayerAttention": [att[-1][i, :, :len(s), :len(s)].ravel().tolist() for i, s in enumerate(batch)],
           "embeddings": emb.tolist()}
    (REF / "tiny_bert_reference.json").write_text(json.dumps(out) + "\n")
    print(f"wrote {folder} and tiny_bert_reference.json")


def minilm():
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(256)
    config = json.loads((MODEL / "config.json").read_text())
    w = read_safetensors(MODEL / "model.safetensors")
    batch = [tok.encode(s).ids for s in SENTENCES]
    _, _, emb = forward(w, config, batch)
    out = {"generated": "by Scripts/bert_reference.py minilm (NumPy float64 forward of the float32 weights); do not edit",
           "sentences": SENTENCES, "ids": batch, "embeddings": [[round(float(x), 9) for x in row] for row in emb]}
    (REF / "minilm_embeddings.json").write_text(json.dumps(out) + "\n")
    print("wrote minilm_embeddings.json")


def bench(argv):
    import argparse
    import os
    ap = argparse.ArgumentParser()
    ap.add_argument("--attractor", default=str(ROOT / ".build" / "release" / "attractor"))
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args(argv)
    config = json.loads((MODEL / "config.json").read_text())
    w = read_safetensors(MODEL / "model.safetensors")
    w32 = {k: v.astype(np.float32) if v.dtype == np.float32 else v for k, v in w.items()}
    rng = np.random.default_rng(0)
    batch = [[101] + rng.integers(1000, 30000, size=126).tolist() + [102] for _ in range(32)]
    forward(w32, config, batch[:2], dtype=np.float32)  # warm-up
    numpy_times, swift_times = [], []
    for _ in range(args.repetitions):
        t0 = time.perf_counter()
        forward(w32, config, batch, dtype=np.float32)
        numpy_times.append(time.perf_counter() - t0)
        res = subprocess.run([args.attractor, "bench", "encoder", "--model-folder", str(MODEL), "--batch-size", "32",
                              "--tokens", "128", "--repetitions", "1", "--json"], check=True, capture_output=True, text=True)
        swift_times.append(json.loads(res.stdout)["secondsPerForward"])
    nm, sm = float(np.median(numpy_times)), float(np.median(swift_times))
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default (all cores)")
    print(json.dumps({"batch": 32, "tokens": 128, "repetitions": args.repetitions, "openblasThreads": threads,
                      "numpySeconds": nm, "swiftSeconds": sm, "speedup": nm / sm,
                      "numpyAll": numpy_times, "swiftAll": swift_times}, indent=1))


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "tiny"
    if mode == "tiny":
        tiny()
    elif mode == "minilm":
        minilm()
    elif mode == "bench":
        bench(sys.argv[2:])
    else:
        sys.exit("usage: bert_reference.py tiny|minilm|bench")
