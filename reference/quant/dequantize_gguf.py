"""Writes an F32 copy of a block-quantized GGUF: every quantized tensor dequantized by gguf-py's numpy
dequantizers, metadata copied. Running the engine on both files separates the in-place quantized
kernels' error (must be float rounding only) from the quantization error itself.
Usage: PYTHONPATH=<gguf-py> python3 dequantize_gguf.py IN.gguf OUT.gguf"""
import sys
import numpy as np
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType
from gguf.quants import dequantize

src, dst = sys.argv[1], sys.argv[2]
r = GGUFReader(src)
arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
w = GGUFWriter(dst, arch)
for name, f in r.fields.items():
    if name.startswith("GGUF.") or name == "general.architecture":
        continue
    vt = f.types[0]
    if vt.name == "ARRAY":
        sub = f.types[1]
        vals = [bytes(f.parts[i]).decode() if sub.name == "STRING" else f.parts[i].tolist()[0] for i in f.data]
        w.add_array(name, vals)
    elif vt.name == "STRING":
        w.add_string(name, bytes(f.parts[-1]).decode())
    else:
        w.add_key_value(name, f.parts[-1].tolist()[0], vt)
for t in r.tensors:
    data = t.data
    if t.tensor_type not in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
        data = dequantize(t.data, t.tensor_type)
    data = np.asarray(data, dtype=np.float32).reshape([int(d) for d in reversed(t.shape)])
    w.add_tensor(t.name, data)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
