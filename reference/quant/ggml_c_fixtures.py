#!/usr/bin/env python3
"""Writes tensor/src/test/resources/quant/ggml_ref.json: float rows and the bytes ggml's own C
reference quantizers (quantize_row_{q8_0,q4_0,q4_1,q5_0,q5_1,q4_K,q5_K,q6_K,q2_K,q3_K}_ref from
ggml/src/ggml-quants.c) write for them. Q2_K and Q3_K were added later (issue #12, session 11) and come
last so that regenerating leaves the earlier keys' bytes untouched.

The quantizers are reached through an external program named by $GGML_QUANT_REF, called as
`$GGML_QUANT_REF TYPE in.f32 out.bin` (TYPE one of the names above in upper case, in.f32 the row as
little-endian float32, out.bin the blocks). It is reference/quant/ggml_quant_ref.c, a thin main() around
ggml-quants.c compiled from ggml's fetched source with -std=c11 -DNDEBUG (release builds drop asserts; ISO C:
no floating-point contraction, like Java; the compile line is in that file); ggml is not part of this
repository.

Run:  GGML_QUANT_REF=/tmp/kq/ggml_quant_ref python3 reference/quant/ggml_c_fixtures.py"""
import json
import os
import subprocess
import tempfile

import numpy as np

rng = np.random.default_rng(7)
OUT = os.path.join(os.path.dirname(__file__), "../../tensor/src/test/resources/quant/ggml_ref.json")
TYPES = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "Q2_K", "Q3_K"]


def rows():
    """Rows of 512 values (two super-blocks): plain and odd cases, each row 256-aligned."""
    out = [rng.normal(0, 1, 512), rng.standard_t(3, 512) * 0.02, rng.uniform(-1, 3, 512)]
    z = np.zeros(512)
    z[256:] = rng.normal(0, 1, 256)                           # one zero super-block
    out.append(z)
    out.append(np.full(512, -0.0))                            # negative zeros
    h = rng.normal(0, 0.01, 512)
    h[5] = 3.0e4
    h[300] = -1.0e3                                           # one huge value per super-block
    out.append(h)
    out.append(rng.normal(0, 1, 512) * 1e-40)                 # float32 subnormals
    out.append(np.tile((np.arange(32) - 16) / 4, 16))         # exact halves (ties)
    out.append(-np.abs(rng.normal(0, 2, 512)))                # all negative
    out.append(np.full(512, 0.75))                            # constant
    return [np.asarray(r, dtype=np.float32) for r in out]


def ggml_bytes(exe, t, src, dst, *extra):
    """The blocks `exe` writes for type t from the float32 file src (via dst), as hex."""
    subprocess.run([exe, t, src, dst, *extra], check=True)
    with open(dst, "rb") as f:
        return f.read().hex()


def main():
    exe = os.environ["GGML_QUANT_REF"]
    doc = {"generator": "reference/quant/ggml_c_fixtures.py (ggml quantize_row_*_ref, -std=c11 -DNDEBUG)",
           "inputs": [], "bytes": {t: [] for t in TYPES}}
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.f32"), os.path.join(tmp, "out.bin")
        for r in rows():
            doc["inputs"].append(r.astype("<f4").tobytes().hex())
            r.astype("<f4").tofile(src)
            for t in TYPES:
                doc["bytes"][t].append(ggml_bytes(exe, t, src, dst))
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=0)
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
