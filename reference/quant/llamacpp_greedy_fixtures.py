#!/usr/bin/env python3
"""Writes models/src/test/resources/golden/quant/llamacpp/*.json: llama.cpp's greedy decoding of GGUF files
that Interlayer's own quantizer wrote, the fixtures of QuantizedGreedyVsLlamaCppTest.

For each (model, preset) case:
  1. `./interlayer quantize --model M --type PRESET --out Q.gguf` (--pure for the block-32 presets, as
     llama-quantize below; without it both give the output head Q6_K or Q8_0): the file under test; its
     sha256 is recorded, the Java test re-creates it and checks the sha256 before comparing anything.
  2. llama-quantize (its library call llama_model_quantize, through llamacpp_quantize.cpp) on the same input (block-32 presets with --pure, the K-quant presets as mixes):
     its sha256, or its error message when it refuses the model, is recorded next to ours.
  3. llamacpp_greedy (llamacpp_greedy.cpp) runs Q.gguf: 3 prompts x 64 greedy tokens, top-8 logits at
     every step, the whole logit row at step 0.
  4. `llamacpp_quantize Q.gguf F.gguf F32 --allow-requantize` dequantizes Q.gguf with ggml's own
     dequantizers; llamacpp_greedy runs F.gguf teacher-forced along the tokens of 3. and the logits at
     the same top-8 ids are recorded ("f32_logits"), then F.gguf's own free greedy run ("f32_tokens",
     with the smallest top-1/top-2 gap along it, "f32_min_gap"). llama.cpp multiplies F32 weights with
     F32 activations, so F.gguf shows llama.cpp without its activation quantization.

Run (llama.cpp built by llamacpp_greedy.sh; no Python packages needed):
  LLAMA_BIN=/tmp/llamacpp/src/build/bin LLAMA_COMMIT=d32676d77 python3 reference/quant/llamacpp_greedy_fixtures.py
ONLY=name,name (e.g. ONLY=synth-llama-256-Q3_K_M) writes just those cases and adds them to index.json, leaving
the other fixtures as they are (the 2- and 3-bit cases were added that way in session 11); OUT_DIR=dir writes
elsewhere (to check that a llama.cpp build reproduces a committed fixture).
"""
import collections
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
SHARED = os.path.normpath(os.path.join(ROOT, "../shared/models"))
BIN = os.environ["LLAMA_BIN"]
COMMIT = os.environ.get("LLAMA_COMMIT", "unknown")
OUT = os.environ.get("OUT_DIR", os.path.join(ROOT, "models/src/test/resources/golden/quant/llamacpp"))
ONLY = [n for n in os.environ.get("ONLY", "").split(",") if n]
PROMPTS = ["Once upon a time", "Lily wanted to play with her friend", "The big dog was sad because"]
N, TOP = 64, 8
BLOCK32 = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]
KMIX = ["Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"]
LOWBIT = ["Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L"]
CASES = [("stories260K/stories260K.gguf", p) for p in BLOCK32 + ["Q4_K_M", "Q5_K_M", "Q6_K"]] + \
        [("synthetic/synth-llama-256-f32.gguf", p) for p in ["Q8_0", "Q4_0"] + KMIX] + \
        [("stories260K/stories260K.gguf", "Q3_K_M")] + \
        [("synthetic/synth-llama-256-f32.gguf", p) for p in LOWBIT]
GGML_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 10: "Q2_K", 11: "Q3_K",
              12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 30: "BF16"}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tensor_types(path):
    """Count of tensors per ggml type, read from the GGUF header (no gguf package needed)."""
    with open(path, "rb") as f:
        data = f.read()
    o = 8
    n_tensors, n_kv = struct.unpack_from("<QQ", data, o)
    o += 16
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(t, o):
        if t == 8:
            (n,) = struct.unpack_from("<Q", data, o)
            return o + 8 + n
        if t == 9:
            et, n = struct.unpack_from("<IQ", data, o)
            o += 12
            for _ in range(n):
                o = skip(et, o)
            return o
        return o + sizes[t]

    for _ in range(n_kv):
        (kl,) = struct.unpack_from("<Q", data, o)
        o += 8 + kl
        (t,) = struct.unpack_from("<I", data, o)
        o = skip(t, o + 4)
    counts = collections.Counter()
    for _ in range(n_tensors):
        (nl,) = struct.unpack_from("<Q", data, o)
        o += 8 + nl
        (nd,) = struct.unpack_from("<I", data, o)
        o += 4 + 8 * nd
        (t,) = struct.unpack_from("<I", data, o)
        o += 4 + 8
        counts[GGML_TYPES.get(t, str(t))] += 1
    return dict(sorted(counts.items()))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def greedy(model, prompts, forced=None, top=TOP, full_steps="0"):
    cmd = [os.path.join(BIN, "llamacpp_greedy"), "-m", model, "-n", str(N), "--top", str(top),
           "--full-steps", full_steps]
    for i, p in enumerate(prompts):
        cmd += ["-t", ",".join(map(str, p))] if isinstance(p, list) else ["-p", p]
        if forced:
            cmd += ["-F", ",".join(map(str, forced[i][:N - 1]))]
    rc, out, err = run(cmd)
    if rc != 0:
        sys.exit(f"llamacpp_greedy failed on {model}: {err}")
    return json.loads(out)


def llama_quantize(src, dst, preset, extra):
    rc, out, err = run([os.path.join(BIN, "llamacpp_quantize"), src, dst, preset] + extra)
    if rc != 0:
        lines = [ln.strip() for ln in (out + err).splitlines() if "failed to quantize" in ln]
        return None, (lines[-1][lines[-1].index("failed to quantize"):] if lines else f"exit {rc}: {err.strip()[-300:]}")
    return sha256(dst), None


def case(tmp, source, preset):
    src = os.path.join(SHARED, source)
    ours = os.path.join(tmp, f"ours-{preset}.gguf")
    extra = ["--pure"] if preset in BLOCK32 else []
    rc, out, err = run([os.path.join(ROOT, "interlayer"), "quantize", "--model", src, "--type", preset, "--out", ours]
                       + extra)
    if rc != 0:
        sys.exit(f"interlayer quantize failed: {out}{err}")
    lq_file = os.path.join(tmp, f"lq-{preset}.gguf")
    lq_sha, lq_err = llama_quantize(src, lq_file, preset, extra)
    q = greedy(ours, PROMPTS)
    # llama.cpp on llama-quantize's own file: same greedy tokens as on ours? (reported, not tested)
    lq_tokens_equal = None if lq_sha is None else \
        [r["tokens"] for r in greedy(lq_file, PROMPTS)["runs"]] == [r["tokens"] for r in q["runs"]]
    f32 = os.path.join(tmp, f"deq-{preset}.gguf")
    rc, out, err = run([os.path.join(BIN, "llamacpp_quantize"), ours, f32, "F32", "--allow-requantize"])
    if rc != 0:
        sys.exit(f"llama-quantize F32 failed: {out}{err}")
    forced = [r["tokens"] for r in q["runs"]]
    d = greedy(f32, [r["prompt"] for r in q["runs"]], forced, top=q["n_vocab"], full_steps="")
    free = greedy(f32, [r["prompt"] for r in q["runs"]], top=2, full_steps="")
    runs = []
    for rq, rd, rf in zip(q["runs"], d["runs"], free["runs"]):
        f32_at = []
        for sq, sd in zip(rq["steps"], rd["steps"]):
            by_id = dict(zip(sd["top_ids"], sd["top_logits"]))
            f32_at.append([by_id[i] for i in sq["top_ids"]])
        runs.append({"text": rq["text"], "prompt": rq["prompt"], "tokens": rq["tokens"],
                     "top_ids": [s["top_ids"] for s in rq["steps"]],
                     "top_logits": [s["top_logits"] for s in rq["steps"]],
                     "f32_logits": f32_at, "logits0": rq["steps"][0]["logits"],
                     "f32_tokens": rf["tokens"],
                     "f32_min_gap": min(st["top_logits"][0] - st["top_logits"][1] for st in rf["steps"])})
    return {
        "generator": "reference/quant/llamacpp_greedy_fixtures.py",
        "llama_cpp": f"llama.cpp {COMMIT} (unslothai/llama.cpp snapshot of ggml-org/llama.cpp), CPU backend, "
                     "1 thread, F32 K/V cache, flash attention off",
        "source": source, "preset": preset, "pure": preset in BLOCK32, "sha256": sha256(ours),
        "tensor_types": tensor_types(ours),
        "llama_quantize": {"args": "llama-quantize " + " ".join(extra + ["IN", "OUT", preset]), "sha256": lq_sha, "error": lq_err,
                           "bytes_equal": lq_sha == sha256(ours), "llama_cpp_tokens_equal": lq_tokens_equal},
        "n_vocab": q["n_vocab"], "runs": runs,
    }


def rounded(o):
    """Floats to 6 significant digits (at most 5e-5 off for logits below 100, far inside the test's 1e-3)."""
    if isinstance(o, float):
        return float(f"{o:.6g}")
    if isinstance(o, list):
        return [rounded(v) for v in o]
    if isinstance(o, dict):
        return {k: rounded(v) for k, v in o.items()}
    return o


def case_name(source, preset):
    return os.path.basename(source).split("-f32")[0].replace(".gguf", "") + "-" + preset


def main():
    os.makedirs(OUT, exist_ok=True)
    names = []
    if ONLY:
        unknown = set(ONLY) - {case_name(s, p) for s, p in CASES}
        if unknown:
            sys.exit(f"ONLY names unknown cases: {sorted(unknown)}")
        index = os.path.join(OUT, "index.json")
        kept = json.load(open(index)) if os.path.exists(index) else []
        names = [n for n in (case_name(s, p) for s, p in CASES) if n in kept and n not in ONLY]
    with tempfile.TemporaryDirectory() as tmp:
        for source, preset in CASES:
            name = case_name(source, preset)
            if ONLY and name not in ONLY:
                continue
            c = case(tmp, source, preset)
            with open(os.path.join(OUT, name + ".json"), "w") as f:
                json.dump(rounded(c), f, separators=(",", ":"))
                f.write("\n")
            names.append(name)
            lq = c["llama_quantize"]
            print(f"{name}: {c['tensor_types']} llama-quantize {'equal' if lq['bytes_equal'] else lq['error'] or 'differs'}")
    order = [case_name(s, p) for s, p in CASES]
    names.sort(key=order.index)
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(names, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
