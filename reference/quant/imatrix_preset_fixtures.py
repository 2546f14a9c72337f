#!/usr/bin/env python3
"""Writes models/src/test/resources/golden/quant/imatrix_presets.json, the fixture of ImatrixPresetVsLlamaCppTest:
llama.cpp's llama-quantize --imatrix run on the 256-wide synthetic llama (synth-llama-256-f32.gguf) with an importance
matrix Interlayer wrote (quantize --imatrix-out on bench/quant/calibration.txt; committed next to the fixture as
synth-llama-256.imatrix, llama.cpp's legacy imatrix.dat layout), one run per preset; per tensor its type and the
sha256 of its data. The whole files differ by design (llama-quantize adds quantize.imatrix.* metadata); the tensors
are the contract.

    LLAMA_BIN=/tmp/llamacpp/build/bin LLAMA_COMMIT=c392e50 python3 reference/quant/imatrix_preset_fixtures.py ../shared/models

The imatrix was made with
    ./interlayer quantize --model ../shared/models/synthetic/synth-llama-256-f32.gguf --method rtn \\
        --calibration bench/quant/calibration.txt --imatrix-out models/src/test/resources/golden/quant/synth-llama-256.imatrix \\
        --out /tmp/unused.gguf
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../llama"))
from llama_reference import read_gguf_layout  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "../.."))
GOLDEN = os.path.join(ROOT, "models/src/test/resources/golden/quant")
IMATRIX = os.path.join(GOLDEN, "synth-llama-256.imatrix")
SOURCE = "synthetic/synth-llama-256-f32.gguf"
PRESETS = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M",
           "Q5_K_S", "Q5_K_M", "Q6_K", "Q8_0"]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# GGML type id -> (name, block size, bytes per block), for the types these files hold.
TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
         7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110),
         12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210)}


def tensors(path):
    """{name: (type name, data bytes)} of a GGUF file."""
    _, infos, start, data = read_gguf_layout(path)
    out = {}
    for name, dims, t, off in infos:
        tname, bs, bb = TYPES[t]
        n = 1
        for d in dims:
            n *= d
        out[name] = (tname, data[start + off:start + off + n // bs * bb])
    return out


def main(models_dir):
    exe = os.path.join(os.environ["LLAMA_BIN"], "llama-quantize")
    src = os.path.join(models_dir, SOURCE)
    doc = {"generator": "reference/quant/imatrix_preset_fixtures.py",
           "llama_cpp_commit": os.environ.get("LLAMA_COMMIT", "unknown"), "source": SOURCE,
           "source_sha256": sha256(open(src, "rb").read()), "imatrix": os.path.basename(IMATRIX),
           "imatrix_sha256": sha256(open(IMATRIX, "rb").read()), "presets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for p in PRESETS:
            out = os.path.join(tmp, p + ".gguf")
            subprocess.run([exe, "--imatrix", IMATRIX, src, out, p], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            doc["presets"][p] = {name: [t, sha256(data)] for name, (t, data) in tensors(out).items()}
    with open(os.path.join(GOLDEN, "imatrix_presets.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    print("wrote", len(PRESETS), "presets")


if __name__ == "__main__":
    main(sys.argv[1])
