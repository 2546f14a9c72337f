#!/usr/bin/env python3
"""Records the GGUF type llama.cpp's llama-quantize gives every tensor, per preset and model, as a fixture
for QuantPresetVsLlamaCppTest (models). Not run by CI.

    LLAMA_COMMIT=d32676d77 LLAMA_BIN=/tmp/llamacpp/build/bin GGUF_PY=/tmp/llamacpp/gguf-py \
        /usr/bin/python3 reference/quant/preset_types.py ../shared/models models/src/test/resources/golden/quant/preset_types.json

LLAMA_BIN holds llama-quantize; LLAMA_COMMIT names that llama.cpp's commit (written into the fixture);
GGUF_PY is the gguf Python package's folder in the same checkout (its reader lists the tensors and their
types). Per model: the sorted tensor names, and per preset the types in that order, or the error line
llama-quantize ended with (it refuses rows no type of the preset divides, e.g. stories260K's 172-column
ffn_down under Q4_0, where Interlayer falls back to F16). Each model is
quantized once per preset without --pure into a temporary folder; only the tensor names and type names
are kept.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.environ["GGUF_PY"])
from gguf import GGUFReader, GGUFWriter  # noqa: E402
import numpy as np  # noqa: E402

PRESETS = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
           "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"]
MODELS = ["stories260K/stories260K.gguf", "synthetic/synth-llama-256-f32.gguf",
          "synthetic/synth-mixtral-moe-f32.gguf", "synthetic/synth-qwen2moe-f32.gguf",
          "synthetic/synth-gemma2-f32.gguf", "synthetic/synth-gpt2-f32.gguf"]
# Models with 8 experts (Mixtral 8x) have their own attention rules; no shared file has 8, so the Mixtral-layout
# file is copied with llama.expert_count set to 8 (the rules read only metadata and names; llama-quantize
# does not check the expert tensors' third dimension against it).
EIGHT_EXPERTS = "synthetic/synth-mixtral-moe-f32.gguf"
# The shared models have 2-5 layers and at most 2 query heads per KV head; the mixes' layer rules (first/last
# eighth, every third layer, first sixteenth) and Q2_K's n_gqa >= 4 rule need more: a 32-layer, 256-wide llama with
# 8 query heads on 2 KV heads, all zeros (the rules read only metadata, names and shapes), generated here. The
# fixture records its parameters, names and shapes, so the Java test needs no file.
GENERATED = {"layers": 32, "heads": 8, "kv_heads": 2, "dim": 256, "ff": 256, "vocab": 256}


def write_generated(path, g):
    w = GGUFWriter(path, "llama")
    w.add_block_count(g["layers"])
    w.add_context_length(128)
    w.add_embedding_length(g["dim"])
    w.add_feed_forward_length(g["ff"])
    w.add_head_count(g["heads"])
    w.add_head_count_kv(g["kv_heads"])
    w.add_layer_norm_rms_eps(1e-5)
    dim, ff, kv = g["dim"], g["ff"], g["kv_heads"] * g["dim"] // g["heads"]
    z = lambda *shape: np.zeros(shape, dtype=np.float32)  # noqa: E731
    w.add_tensor("token_embd.weight", z(g["vocab"], dim))
    w.add_tensor("output_norm.weight", z(dim))
    w.add_tensor("output.weight", z(g["vocab"], dim))
    for layer in range(g["layers"]):
        p = f"blk.{layer}."
        for name, shape in [("attn_norm", (dim,)), ("ffn_norm", (dim,)), ("attn_q", (dim, dim)), ("attn_k", (kv, dim)),
                            ("attn_v", (kv, dim)), ("attn_output", (dim, dim)), ("ffn_gate", (ff, dim)),
                            ("ffn_up", (ff, dim)), ("ffn_down", (dim, ff))]:
            w.add_tensor(p + name + ".weight", z(*shape))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def types(path):
    return {t.name: t.tensor_type.name for t in GGUFReader(path).tensors}


def tensor_names(path):
    return sorted(t.name for t in GGUFReader(path).tensors)


def main(models_dir, out):
    binary = os.path.join(os.environ["LLAMA_BIN"], "llama-quantize")
    result = {"llama_cpp_commit": os.environ.get("LLAMA_COMMIT", "unknown"), "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        eight = os.path.join(tmp, "eight-experts.gguf")
        shutil.copyfile(os.path.join(models_dir, EIGHT_EXPERTS), eight)
        subprocess.run([sys.executable, os.path.join(os.environ["GGUF_PY"], "gguf", "scripts", "gguf_set_metadata.py"),
                        eight, "llama.expert_count", "8", "--force"], check=True, capture_output=True,
                       env=dict(os.environ, PYTHONPATH=os.environ["GGUF_PY"]))
        generated = os.path.join(tmp, "generated.gguf")
        write_generated(generated, GENERATED)
        for model, path, expert_count in [(m, os.path.join(models_dir, m), None) for m in MODELS] \
                + [(EIGHT_EXPERTS + "#expert_count=8", eight, 8), ("generated-llama-32", generated, None)]:
            names = tensor_names(path)
            per_preset = {}
            for preset in PRESETS:
                dst = os.path.join(tmp, "q.gguf")
                run = subprocess.run([binary, path, dst, preset, "1"],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    per_preset[preset] = {"error": run.stderr.strip().splitlines()[-1]}
                    continue
                got = types(dst)
                per_preset[preset] = [got[n] for n in names]
            result["models"][model] = {"tensors": names, "presets": per_preset}
            if expert_count is not None:
                result["models"][model]["expert_count"] = expert_count
            if path == generated:
                result["models"][model]["generated"] = GENERATED
                shapes = {t.name: [int(d) for d in reversed(t.shape)] for t in GGUFReader(path).tensors}
                result["models"][model]["shapes"] = [shapes[n] for n in names]
    with open(out, "w") as f:
        json.dump(result, f, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
