#!/usr/bin/env python3
"""Reads a GGUF written by `./interlayer quantize --method ...` with the independent `gguf` Python reader
(llama.cpp's gguf-py): every tensor must parse, quantized tensors are dequantized with gguf-py's numpy codecs and
must stay within 20 % (max abs, relative to the tensor's max) of the source model's F32 values, unquantized ones
must equal the source (or, for AWQ's folded norms, be finite). AWQ's linears hold W·diag(s) with the pre-norm
divided by s, so each is compared as W·diag(norm) on both sides. Prints the type counts and the worst error.

Usage: PYTHONPATH=/tmp/pygguf python3 reference/quant/check_calibrated_gguf.py SOURCE.gguf QUANTIZED.gguf"""
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, quants

src, dst = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
by_name = {t.name: t for t in src.tensors}
dst_by_name = {t.name: t for t in dst.tensors}
NORM = {"attn_q": "attn_norm", "attn_k": "attn_norm", "attn_v": "attn_norm", "ffn_gate": "ffn_norm", "ffn_up": "ffn_norm"}


def with_norm(name, w, reader_tensors):
    parts = name.split(".")
    norm = NORM.get(parts[2]) if len(parts) == 4 else None
    key = ".".join(parts[:2] + [norm, "weight"]) if norm else None
    if key is None or key not in reader_tensors:
        return w
    cols = np.asarray(reader_tensors[key].data, dtype=np.float32).reshape(-1)
    return (w.reshape(-1, cols.size) * cols).reshape(-1)

counts, worst = {}, 0.0
for t in dst.tensors:
    x = np.asarray(by_name[t.name].data, dtype=np.float32).reshape(-1)
    if t.tensor_type in (T.F32, T.F16):
        y = np.asarray(t.data, dtype=np.float32).reshape(-1)
        assert np.isfinite(y).all() and (np.array_equal(y, x) or t.name.endswith("_norm.weight")), t.name
    else:
        y = quants.dequantize(np.asarray(t.data).reshape(-1).view(np.uint8), t.tensor_type).reshape(-1)
        x, y = with_norm(t.name, x, by_name), with_norm(t.name, y, dst_by_name)
        err = np.abs(y - x).max() / max(1e-30, np.abs(x).max())
        assert err < 0.2, (t.name, err)
        worst = max(worst, err)
    counts[t.tensor_type.name] = counts.get(t.tensor_type.name, 0) + 1
print("ok", sys.argv[2], counts, "worst relative max error %.4f" % worst,
      "file_type", dst.fields["general.file_type"].parts[-1][0])
