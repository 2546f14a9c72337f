#!/usr/bin/env python3
"""Writes models/src/test/resources/golden/quant/imatrix_presets.json, the fixture of ImatrixPresetVsLlamaCppTest:
llama.cpp's llama-quantize --imatrix run on two synthetic models, one run per preset; per tensor its type and the
sha256 of its data, and the sha256 of the whole file. llama-quantize runs in models/ (the directory Maven runs the
test in) with the importance matrix given as the relative path src/test/resources/golden/quant/NAME, recorded as
imatrix_argument: it stores that string as quantize.imatrix.file, and the test gives Interlayer the same string, so
the whole files (metadata included) can be equal. The importance matrices (llama.cpp's legacy imatrix.dat layout) are committed next to the fixture:
- synth-llama-256-f32.gguf (256 wide: every K-quant): synth-llama-256.imatrix, written by Interlayer's
  quantize --imatrix-out on bench/quant/calibration.txt (command below); no entry for token_embd and output.
- synth-mixtral-moe-f32.gguf (64 wide, 4 experts: the K presets fall back to block-32 types): synth-mixtral-moe.imatrix,
  random E[x²]-like values written here (seeded) for every quantized weight including token_embd and output, the MoE
  expert tensors with one vector per expert (ne[0]·ne[2] values), as llama-imatrix lays them out. Not the Q2_K and
  Q3_K presets: their fallback for 64-wide rows is IQ4_NL in this llama.cpp (c392e50), Q4_0 in later ones and in
  Interlayer (no IQ writer), a difference of type rules that has nothing to do with the importance matrix.

    LLAMA_BIN=/tmp/llamacpp/build/bin LLAMA_COMMIT=c392e50 python3 reference/quant/imatrix_preset_fixtures.py ../shared/models

The imatrix was made with
    ./interlayer quantize --model ../shared/models/synthetic/synth-llama-256-f32.gguf --method rtn \\
        --calibration bench/quant/calibration.txt --imatrix-out models/src/test/resources/golden/quant/synth-llama-256.imatrix \\
        --out /tmp/unused.gguf
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../llama"))
from llama_reference import read_gguf_layout  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "../.."))
MODULE = os.path.join(ROOT, "models")
GOLDEN = os.path.join(MODULE, "src/test/resources/golden/quant")
MODELS = {"synthetic/synth-llama-256-f32.gguf": "synth-llama-256.imatrix",
          "synthetic/synth-mixtral-moe-f32.gguf": "synth-mixtral-moe.imatrix"}
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


def write_random_imatrix(src, path):
    """A legacy imatrix.dat with an entry for every 2-D/3-D weight of src: ncall 3, values 3·E[x²] (log-normal,
    10 % zeros), ne[0]·ne[2] per tensor; ends with the last call and a dataset name, as llama-imatrix writes."""
    rng = np.random.default_rng(13)
    _, infos, _, _ = read_gguf_layout(src)
    entries = [(n, ne) for n, ne, _, _ in infos if len(ne) >= 2 and n.endswith(".weight") and "ffn_gate_inp" not in n]
    out = struct.pack("<i", len(entries))
    for name, ne in entries:
        v = np.exp(rng.normal(0, 1, ne[0] * (ne[2] if len(ne) > 2 else 1))).astype("<f4")
        v[rng.random(v.size) < 0.1] = 0
        b = name.encode()
        out += struct.pack("<i", len(b)) + b + struct.pack("<ii", 3, v.size) + (v * np.float32(3)).tobytes()
    dataset = b"random"
    out += struct.pack("<ii", 3, len(dataset)) + dataset
    with open(path, "wb") as f:
        f.write(out)


def main(models_dir):
    exe = os.path.join(os.environ["LLAMA_BIN"], "llama-quantize")
    doc = {"generator": "reference/quant/imatrix_preset_fixtures.py",
           "llama_cpp_commit": os.environ.get("LLAMA_COMMIT", "unknown"), "models": {}}
    for source, name in MODELS.items():
        src, imatrix = os.path.join(models_dir, source), os.path.join(GOLDEN, name)
        if "mixtral" in source:
            write_random_imatrix(src, imatrix)
        argument = os.path.relpath(imatrix, MODULE)
        m = {"source_sha256": sha256(open(src, "rb").read()), "imatrix": name, "imatrix_argument": argument,
             "imatrix_sha256": sha256(open(imatrix, "rb").read()), "presets": {}, "file_sha256": {}}
        with tempfile.TemporaryDirectory() as tmp:
            for p in PRESETS if "llama-256" in source else [p for p in PRESETS if p[:2] not in ("Q2", "Q3")]:
                out = os.path.join(tmp, p + ".gguf")
                subprocess.run([exe, "--imatrix", argument, os.path.abspath(src), out, p], check=True, cwd=MODULE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                m["presets"][p] = {t: [ty, sha256(data)] for t, (ty, data) in tensors(out).items()}
                m["file_sha256"][p] = sha256(open(out, "rb").read())
        doc["models"][source] = m
    with open(os.path.join(GOLDEN, "imatrix_presets.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    print("wrote", len(MODELS), "models x", len(PRESETS), "presets")


if __name__ == "__main__":
    main(sys.argv[1])
