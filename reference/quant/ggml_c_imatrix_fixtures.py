#!/usr/bin/env python3
"""Writes tensor/src/test/resources/quant/ggml_imatrix_ref.json: matrices of float rows, a per-column importance
vector for each, and the bytes ggml's importance-weighted quantizers write for them: quantize_{q4_0,q4_1,q5_0,q5_1,
q2_K,q3_K,q4_K,q5_K,q6_K,q8_0}(src, dst, nrows, n_per_row, imatrix) from ggml/src/ggml-quants.c, the entry points
llama-quantize --imatrix reaches through ggml_quantize_chunk (with a non-null importance vector they run
quantize_row_<type>_impl, not the _ref rounding; Q8_0 ignores the vector and is kept as that check).

The program is reference/quant/ggml_quant_ref.c (compile line in that file), named by $GGML_QUANT_REF and called
as `$GGML_QUANT_REF TYPE in.f32 out.bin imatrix.f32`.

Run:  GGML_QUANT_REF=/tmp/kqi/ggml_quant_ref python3 reference/quant/ggml_c_imatrix_fixtures.py"""
import json
import os
import tempfile

import numpy as np

from ggml_c_fixtures import ggml_bytes

rng = np.random.default_rng(12)
OUT = os.path.join(os.path.dirname(__file__), "../../tensor/src/test/resources/quant/ggml_imatrix_ref.json")
TYPES = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
N = 512  # two super-blocks per row


def importance():
    """E[x²]-like: log-normal, ~10% exact zeros, one huge column."""
    w = np.exp(rng.normal(0, 1.5, N))
    w[rng.random(N) < 0.1] = 0
    w[77] = 1e6
    return w


def cases():
    """(rows, importance): odd row counts, odd row contents, and odd importance vectors."""
    z = np.zeros(N)
    z[256:] = rng.normal(0, 1, 256)                            # one zero super-block
    h = rng.normal(0, 0.01, N)
    h[5] = 3.0e4
    h[300] = -1.0e3                                            # one huge value per super-block
    odd = [rng.standard_t(3, N) * 0.02, rng.uniform(-1, 3, N), z, np.full(N, -0.0), h,
           rng.normal(0, 1, N) * 1e-40,                        # float32 subnormals
           np.tile((np.arange(32) - 16) / 4, N // 32),         # exact halves (ties)
           -np.abs(rng.normal(0, 2, N)), np.full(N, 0.75)]
    out = [(rng.normal(0, 1, (3, N)), importance()),           # plain, three rows
           (np.stack(odd), importance()),                      # odd rows, one matrix
           (rng.normal(0, 1, (1, N)), np.ones(N)),             # all-ones importance
           (rng.normal(0, 1, (2, N)), np.full(N, 3.5))]        # all-equal importance
    zeros = importance()
    zeros[32:64] = 0                                           # one zero-importance block of 32
    zeros[256:] = 0                                            # and a whole zero-importance super-block
    out.append((rng.normal(0, 1, (3, N)), zeros))
    tiny = importance() * 1e-30                                # subnormal-range importances
    out.append((rng.normal(0, 1, (1, N)), tiny))
    return [(np.asarray(r, dtype=np.float32), np.asarray(w, dtype=np.float32)) for r, w in out]


def main():
    exe = os.environ["GGML_QUANT_REF"]
    doc = {"generator": "reference/quant/ggml_c_imatrix_fixtures.py (ggml quantize_<type> with an importance"
                        " vector, -std=c11 -DNDEBUG)",
           "n_per_row": N, "inputs": [], "importance": [], "bytes": {t: [] for t in TYPES}}
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, imp = (os.path.join(tmp, f) for f in ("in.f32", "out.bin", "imatrix.f32"))
        for rows, w in cases():
            doc["inputs"].append(rows.astype("<f4").tobytes().hex())
            doc["importance"].append(w.astype("<f4").tobytes().hex())
            rows.astype("<f4").tofile(src)
            w.astype("<f4").tofile(imp)
            for t in TYPES:
                doc["bytes"][t].append(ggml_bytes(exe, t, src, dst, imp))
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=0)
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
