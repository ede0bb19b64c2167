#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets under Fuzz/Corpus/<target>/ (run from anywhere).

Small valid files of each format plus a few invalid ones; libFuzzer mutates from these. The
.npy seeds use NumPy; the other formats are written by hand.
"""
import io
import json
import os
import shutil
import struct

import numpy as np

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(ROOT)
CORPUS = os.path.join(ROOT, "Corpus")


def put(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy(array, version=None):
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, b"", 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        dtype = {"float32": "F32", "float64": "F64", "int32": "I32", "uint8": "U8", "float16": "F16"}[str(array.dtype)]
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs += raw
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blobs


def idx(code, array_bytes, shape):
    return b"\0\0" + bytes([code, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape) + array_bytes


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)

    # .npy
    put("npy", "f32_2x3.npy", npy(np.arange(6, dtype="<f4").reshape(2, 3)))
    put("npy", "f64_fortran.npy", npy(np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))))
    put("npy", "i64_scalar.npy", npy(np.array(7, dtype="<i8")))
    put("npy", "u8_vector.npy", npy(np.arange(5, dtype="u1")))
    put("npy", "f4_bigendian.npy", npy(np.arange(4, dtype=">f4")))
    put("npy", "f64_empty.npy", npy(np.zeros((0, 3))))
    put("npy", "f32_v2.npy", npy(np.ones((2, 2), dtype="<f4"), version=(2, 0)))
    put("npy", "truncated.npy", npy(np.arange(6, dtype="<f4"))[:-3])
    put("npy", "bad_header.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4' \n")

    # safetensors
    put("safetensors", "two.safetensors", safetensors(
        {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.arange(3, dtype=np.int32)}, {"format": "pt"}))
    put("safetensors", "f64.safetensors", safetensors({"x": np.array([1.5, -2.0])}))
    put("safetensors", "u8_empty.safetensors", safetensors({"e": np.zeros((0, 4), dtype=np.uint8)}))
    put("safetensors", "f16.safetensors", safetensors({"h": np.arange(4, dtype=np.float16)}))
    put("safetensors", "empty_header.safetensors", struct.pack("<Q", 2) + b"{}")
    put("safetensors", "overlap.safetensors", struct.pack("<Q", 98) + json.dumps(
        {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
         "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}).encode()[:98] + b"\0" * 6)
    put("safetensors", "short.safetensors", struct.pack("<Q", 1000) + b"{")

    # IDX
    put("idx", "u8_2x2x3.idx", idx(0x08, bytes(range(12)), [2, 2, 3]))
    put("idx", "u8_labels.idx", idx(0x08, bytes([1, 2, 3]), [3]))
    put("idx", "f32_2.idx", idx(0x0D, struct.pack(">2f", 1.0, -2.5), [2]))
    put("idx", "f64_1.idx", idx(0x0E, struct.pack(">d", 3.25), [1]))
    put("idx", "i16_2.idx", idx(0x0B, struct.pack(">2h", -1, 2), [2]))
    put("idx", "i32_2.idx", idx(0x0C, struct.pack(">2i", -1, 2), [2]))
    put("idx", "truncated.idx", idx(0x08, bytes(5), [2, 3]))
    put("idx", "bad_type.idx", idx(0x07, bytes(2), [2]))

    # Study files: the documented examples plus small invalid ones.
    for name, path in [("mnist-study.json", "Docs/examples/mnist-study.json"), ("compare.json", "Docs/compare/study.json")]:
        with open(os.path.join(REPO, path), "rb") as f:
            put("study", name, f.read())
    put("study", "empty_object.json", "{}")
    put("study", "duplicate_key.json", '{"name": "a", "name": "b"}')
    put("study", "not_json.json", "{\"name\": ")

    # Model-folder configs: a shipped one, a synthetic-memory one, and invalid ones.
    models = os.path.join(REPO, "Models")
    shipped = sorted(d for d in os.listdir(models) if os.path.exists(os.path.join(models, d, "config.json")))
    if shipped:
        with open(os.path.join(models, shipped[0], "config.json"), "rb") as f:
            put("modelconfig", "shipped.json", f.read())
    base = {"format": "attractors.iterative-attention", "formatVersion": 1,
            "configuration": {"heads": 1, "layers": 1, "temperature": 1, "width": 4}, "dataDimension": 4,
            "memory": {"stored": {}}}
    put("modelconfig", "stored.json", json.dumps(base))
    put("modelconfig", "synthetic.json", json.dumps(
        dict(base, memory={"syntheticGaussian": {"count": 8, "dimension": 4, "seed": 1}})))
    put("modelconfig", "wrong_version.json", json.dumps(dict(base, formatVersion=2)))
    put("modelconfig", "format_list.json", json.dumps(dict(base, format=["x", "attractors.iterative-attention"])))
    put("modelconfig", "array.json", "[1, 2]")

    # Hugging Face BERT configs (BERTConfiguration) and WordPiece vocabularies (WordPieceVocabulary).
    with open(os.path.join(REPO, "Tests", "AttractorModelsTests", "Reference", "TinyBERT", "config.json"), "rb") as f:
        tiny = f.read()
    put("bertconfig", "tiny.json", tiny)
    bert = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 384, "num_hidden_layers": 6,
            "num_attention_heads": 12, "intermediate_size": 1536, "vocab_size": 30522,
            "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
            "position_embedding_type": "absolute", "pad_token_id": 0}
    put("bertconfig", "minilm_like.json", json.dumps(bert))
    put("bertconfig", "heads_not_dividing.json", json.dumps(dict(bert, num_attention_heads=7)))
    put("bertconfig", "gelu_new.json", json.dumps(dict(bert, hidden_act="gelu_new")))
    put("bertconfig", "roberta.json", json.dumps(dict(bert, model_type="roberta")))
    put("bertconfig", "missing_key.json", json.dumps({k: v for k, v in bert.items() if k != "vocab_size"}))
    with open(os.path.join(REPO, "Tests", "AttractorModelsTests", "Reference", "tiny_vocab.txt"), "rb") as f:
        put("vocab", "tiny_vocab.txt", f.read())
    put("vocab", "crlf.txt", b"[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n##s\r\n")
    put("vocab", "no_unk.txt", "[CLS]\n[SEP]\na\n")
    put("vocab", "unicode.txt", "[UNK]\n[CLS]\n[SEP]\ncafé\n中\n##ü\n\n")
    put("vocab", "not_utf8.txt", b"[UNK]\n\xff\xfe\n")


if __name__ == "__main__":
    main()
