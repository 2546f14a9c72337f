#!/usr/bin/env python3
"""Cross-checks a GGUF file written by `./interlayer quantize` with the independent `gguf` Python
reader: every tensor is read back, quantized tensors are re-quantized from the source model's F32
values with gguf-py's own quantizer (where it has one) and must be byte-identical, and F16 fallbacks
must equal numpy's float16 rounding.

Usage: PYTHONPATH=/tmp/pygguf python3 reference/quant/check_written_gguf.py SOURCE.gguf QUANTIZED.gguf"""
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, quants

src, dst = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
by_name = {t.name: t for t in src.tensors}
checked = {}
for t in dst.tensors:
    s = by_name[t.name]
    x = np.asarray(s.data, dtype=np.float32).reshape(-1, int(s.shape[0]))
    raw = np.asarray(t.data).reshape(-1).view(np.uint8)
    if t.tensor_type == T.F16:
        assert np.array_equal(np.asarray(t.data).reshape(-1).view(np.uint16), x.astype(np.float16).reshape(-1).view(np.uint16)), t.name
    elif t.tensor_type == T.F32:
        assert np.array_equal(np.asarray(t.data).reshape(-1), x.reshape(-1)), t.name
    else:
        back = quants.dequantize(raw, t.tensor_type).reshape(x.shape)
        err = np.abs(back - x).max() / max(1e-30, np.abs(x).max())
        assert err < 0.2, (t.name, err)
        try:
            want = quants.quantize(x, t.tensor_type).reshape(-1)
            assert np.array_equal(want, raw), t.name + " bytes differ from gguf-py's quantizer"
        except NotImplementedError:
            pass
    checked[t.tensor_type.name] = checked.get(t.tensor_type.name, 0) + 1
print("ok", sys.argv[2], checked, "file_type", dst.fields["general.file_type"].parts[-1][0])
