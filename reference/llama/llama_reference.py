#!/usr/bin/env python3
"""Independent numpy reference for Llama-family GGUF models (dense llama, Mixtral-style MoE, qwen2moe).

Parses GGUF itself (no llama.cpp code), runs a full-sequence causal forward pass in float64 from the
equations, and writes a JSON fixture {"model", "tokens", "logits": [[...] per position], "ids"} where
"ids" (if present) lists which vocabulary entries each logits row holds (a subset, for big vocabularies).

Conventions (llama.cpp's GGUF): tensor dims are stored innermost-first, so a matrix with ne=[in, out]
is a row-major [out, in] array; arch "llama" Q/K rows were permuted at conversion so RoPE rotates
adjacent pairs (2i, 2i+1); NEOX-style archs (qwen2, qwen2moe) rotate (i, i + d/2).

Usage: llama_reference.py MODEL.gguf OUT.json TOKENS(comma-separated) [--stride N]
"""
import json
import struct
import sys

import numpy as np

GGML = {0: (np.float32, 1), 1: (np.float16, 1)}   # type id -> (numpy dtype, values per element)


def read_gguf(path):
    meta, infos, start, data = read_gguf_layout(path)
    tensors = {}
    for name, ne, t, off in infos:
        dt, _ = GGML[t]
        count = int(np.prod(ne))
        arr = np.frombuffer(data, dtype=dt, count=count, offset=start + off)
        tensors[name] = arr.reshape(list(reversed(ne))).astype(np.float64)
    return meta, tensors


def read_gguf_layout(path):
    """(metadata, [(name, ne, ggml type id, offset)], offset of the tensor data, the file's bytes)."""
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals[0] if len(vals) == 1 else vals

    def string():
        n = take("Q")
        nonlocal pos
        s = data[pos:pos + n].decode("utf-8")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t in scalar:
            return take(scalar[t])
        if t == 8:
            return string()
        if t == 9:
            et = take("I")
            n = take("Q")
            return [value(et) for _ in range(n)]
        raise ValueError("bad type %d" % t)

    assert data[:4] == b"GGUF"
    pos = 4
    version = take("I")
    assert version in (2, 3)
    n_tensors = take("Q")
    n_kv = take("Q")
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        nd = take("I")
        ne = [take("Q") for _ in range(nd)]
        t = take("I")
        off = take("Q")
        infos.append((name, ne, t, off))
    align = meta.get("general.alignment", 32)
    start = (pos + align - 1) // align * align
    return meta, infos, start, data


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def silu(x):
    return x / (1.0 + np.exp(-x))


def rope(x, n_heads, hd, rot, theta, neox):
    # x: [T, n_heads*hd]; position p = row index
    T = x.shape[0]
    x = x.reshape(T, n_heads, hd).copy()
    inv = theta ** (-np.arange(0, rot, 2, dtype=np.float64) / rot)     # [rot/2]
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]      # [T, rot/2]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    if neox:
        a, b = x[..., : rot // 2].copy(), x[..., rot // 2: rot].copy()
        x[..., : rot // 2] = a * c - b * s
        x[..., rot // 2: rot] = a * s + b * c
    else:
        a, b = x[..., 0:rot:2].copy(), x[..., 1:rot:2].copy()
        x[..., 0:rot:2] = a * c - b * s
        x[..., 1:rot:2] = a * s + b * c
    return x.reshape(T, n_heads * hd)


def ffn(h, gate, up, down):
    return (silu(h @ gate.T) * (h @ up.T)) @ down.T


def forward(meta, W, tokens):
    arch = meta["general.architecture"]
    p = arch + "."
    dim = meta[p + "embedding_length"]
    L = meta[p + "block_count"]
    H = meta[p + "attention.head_count"]
    KV = meta.get(p + "attention.head_count_kv", H)
    hd = meta.get(p + "attention.key_length", dim // H)
    eps = meta.get(p + "attention.layer_norm_rms_epsilon", 1e-5)
    theta = meta.get(p + "rope.freq_base", 10000.0)
    rot = meta.get(p + "rope.dimension_count", hd)
    n_exp = meta.get(p + "expert_count", 0)
    k_exp = meta.get(p + "expert_used_count", 0)
    neox = arch.startswith("qwen")
    T = len(tokens)
    x = W["token_embd.weight"][tokens]                    # [T, dim]
    mask = np.triu(np.full((T, T), -np.inf), 1)           # causal
    for l in range(L):
        b = "blk.%d." % l
        h = rmsnorm(x, W[b + "attn_norm.weight"], eps)
        q = h @ W[b + "attn_q.weight"].T + W.get(b + "attn_q.bias", 0)
        k = h @ W[b + "attn_k.weight"].T + W.get(b + "attn_k.bias", 0)
        v = h @ W[b + "attn_v.weight"].T + W.get(b + "attn_v.bias", 0)
        q = rope(q, H, hd, rot, theta, neox).reshape(T, H, hd)
        k = rope(k, KV, hd, rot, theta, neox).reshape(T, KV, hd)
        v = v.reshape(T, KV, hd)
        out = np.zeros((T, H, hd))
        for hh in range(H):
            g = hh // (H // KV)
            s = q[:, hh, :] @ k[:, g, :].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            out[:, hh, :] = s @ v[:, g, :]
        x = x + out.reshape(T, H * hd) @ W[b + "attn_output.weight"].T
        h = rmsnorm(x, W[b + "ffn_norm.weight"], eps)
        if n_exp == 0:
            x = x + ffn(h, W[b + "ffn_gate.weight"], W[b + "ffn_up.weight"], W[b + "ffn_down.weight"])
            continue
        router = h @ W[b + "ffn_gate_inp.weight"].T         # [T, n_exp]
        probs = np.exp(router - router.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        y = np.zeros_like(x)
        for t in range(T):
            top = np.argsort(-probs[t], kind="stable")[:k_exp]
            w = probs[t, top]
            if arch == "llama":        # Mixtral renormalises the selected weights; qwen2moe does not
                w = w / w.sum()
            for e, we in zip(top, w):
                y[t] += we * ffn(h[t:t + 1], W[b + "ffn_gate_exps.weight"][e], W[b + "ffn_up_exps.weight"][e],
                                 W[b + "ffn_down_exps.weight"][e])[0]
        if b + "ffn_gate_inp_shexp.weight" in W:
            sg = 1.0 / (1.0 + np.exp(-(h @ W[b + "ffn_gate_inp_shexp.weight"].reshape(-1))))   # [T]
            y += sg[:, None] * ffn(h, W[b + "ffn_gate_shexp.weight"], W[b + "ffn_up_shexp.weight"],
                                   W[b + "ffn_down_shexp.weight"])
        x = x + y
    x = rmsnorm(x, W["output_norm.weight"], eps)
    out_w = W.get("output.weight", W["token_embd.weight"])
    return x @ out_w.T                                     # [T, vocab]


def main():
    path, out, toks = sys.argv[1], sys.argv[2], [int(t) for t in sys.argv[3].split(",")]
    stride = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--stride" else 1
    meta, W = read_gguf(path)
    logits = forward(meta, W, toks)
    ids = list(range(0, logits.shape[1], stride))
    res = {"model": path.split("/")[-1], "tokens": toks,
           "logits": [[round(float(v), 7) for v in row[ids]] for row in logits]}
    if stride != 1:
        res["ids"] = ids
    with open(out, "w") as f:
        json.dump(res, f)
    print("wrote", out, "argmax per position:", logits.argmax(axis=1).tolist())


if __name__ == "__main__":
    main()
