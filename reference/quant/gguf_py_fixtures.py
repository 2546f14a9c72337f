#!/usr/bin/env python3
"""Writes tensor/src/test/resources/quant/gguf_py.json: GGML block bytes and the floats the `gguf`
Python package (gguf-py 0.19, numpy) dequantizes them to, for every block format Interlayer reads,
plus float inputs and the bytes gguf-py's reference quantizers write for them (Q8_0, Q4_0, Q4_1,
Q5_0, Q5_1: the formats gguf-py can quantize; its code follows ggml's quantize_row_*_ref).

Run:  pip install --target /tmp/pygguf /tmp/x/gguf-0.19.0-py3-none-any.whl
      PYTHONPATH=/tmp/pygguf python3 reference/quant/gguf_py_fixtures.py
Floats are stored as the hex of their little-endian float32 bytes (bit-exact, NaN-safe)."""
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

rng = np.random.default_rng(12)
OUT = os.path.join(os.path.dirname(__file__), "../../tensor/src/test/resources/quant/gguf_py.json")

# (type, block bytes, byte offsets of f16 scale fields, number of blocks)
FORMATS = [
    ("Q8_0", 34, [0], 10), ("Q4_0", 18, [0], 10), ("Q4_1", 20, [0, 2], 10),
    ("Q5_0", 22, [0], 10), ("Q5_1", 24, [0, 2], 10), ("IQ4_NL", 18, [0], 10),
    ("Q2_K", 84, [80, 82], 6), ("Q3_K", 110, [108], 6), ("Q4_K", 144, [0, 2], 6),
    ("Q5_K", 176, [0, 2], 6), ("Q6_K", 210, [208], 6), ("IQ4_XS", 136, [0], 6),
]

# f16 scale cases: normal, zero, negative zero, subnormal, largest finite, negative normal
SCALES = [None, 0.0, -0.0, "sub", 65504.0, -0.37]


def f16_bytes(v):
    if v == "sub":
        return np.array([0x0013], dtype=np.uint16).view(np.uint8)  # 19 * 2^-24, a subnormal half
    return np.array([v], dtype=np.float16).view(np.uint8)


def dequant_cases():
    out = {}
    for name, nbytes, scale_offs, nblocks in FORMATS:
        qt = T[name]
        blocks = rng.integers(0, 256, size=(nblocks, nbytes), dtype=np.uint8)
        for b in range(nblocks):
            for j, off in enumerate(scale_offs):
                case = SCALES[(b + j) % len(SCALES)]
                v = float(rng.normal(0, 0.05)) if case is None else case
                blocks[b, off:off + 2] = f16_bytes(v)
        if nblocks > 2:
            blocks[2, :] = 0                                   # an all-zero block
        vals = quants.dequantize(blocks.reshape(-1), qt).astype(np.float32)
        out[name] = {"blocks": [bytes(b).hex() for b in blocks],
                     "values": [v.astype("<f4").tobytes().hex() for v in vals.reshape(nblocks, -1)]}
    return out


def quant_inputs():
    rows = [rng.normal(0, 1, 32).astype(np.float32) for _ in range(6)]
    rows.append(np.zeros(32, np.float32))                    # zero block
    z = np.full(32, -0.0, np.float32)                        # negative zeros
    rows.append(z)
    huge = rng.normal(0, 0.01, 32).astype(np.float32)
    huge[7] = 3.0e4                                          # one huge value
    rows.append(huge)
    den = (rng.normal(0, 1, 32) * 1e-40).astype(np.float32)  # float32 subnormals
    rows.append(den)
    ties = ((np.arange(32) - 16) / 4).astype(np.float32)     # exact halves after scaling
    rows.append(ties)
    neg = -np.abs(rng.normal(0, 2, 32)).astype(np.float32)   # all negative
    rows.append(neg)
    same = np.full(32, 0.75, np.float32)                     # constant block (max == min)
    rows.append(same)
    return np.stack(rows)


def quant_cases():
    x = quant_inputs()
    out = {"inputs": [r.astype("<f4").tobytes().hex() for r in x]}
    for name in ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]:
        q = quants.quantize(x, T[name])
        out[name] = [bytes(r).hex() for r in q]
    return out


def main():
    with np.errstate(all="ignore"):
        doc = {"generator": "reference/quant/gguf_py_fixtures.py (gguf-py 0.19.0, numpy " + np.__version__ + ")",
               "dequantize": dequant_cases(), "quantize": quant_cases()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=0)
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
