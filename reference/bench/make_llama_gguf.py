#!/usr/bin/env python3
"""Writes a random-weight, Llama-3.2-1B-shaped GGUF (v3) for end-to-end speed benchmarks.

--arch gemma2|olmo2|gpt2 writes the same widths (hidden 2048, FFN 8192, 32 heads of 64, vocab 128256, 16 layers) in
that family's llama.cpp layout instead, to compare decode across families: Gemma 2 with its four norms per block,
tied embeddings and soft-capping (attention 50, final 30; sliding window 4096 on alternate layers, wider than any
benchmark context), OLMo 2 with post-norms and q/k RMSNorm (8 KV heads), GPT-2 with LayerNorm biases, fused QKV with
bias, learned positions (context 2048) and GELU, all heads (no GQA). 1-D tensors (norm weights and biases) are ones.

Shapes follow Llama 3.2 1B: hidden 2048, 16 layers, 32 heads, 8 KV heads, FFN 8192, vocab 128256,
tied embeddings are NOT used (an explicit output.weight is written, as the bench compares
bandwidth-bound decode). 1-D norm weights are F32, as llama.cpp's converter writes them. Weights ~ N(0, 0.02^2); norms = 1. The tokenizer is a synthetic byte-level
BPE ('gpt2' model, 'llama-bpe' pre-tokenizer) with 128000 base tokens built from valid merges plus
256 Llama-3-style special tokens, so llama.cpp and llama3.java both accept the file.

Usage: /usr/bin/python3 reference/bench/make_llama_gguf.py OUT.gguf --dtype bf16|f16|f32 [--layers N]
           [--arch llama|gemma2|olmo2|gpt2]
Self-written GGUF writer (no llama.cpp code). Only numpy is needed.
"""
import argparse
import struct
import numpy as np

GGUF_MAGIC = 0x46554747  # "GGUF" little-endian
T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64 = 4, 5, 6, 7, 8, 9, 10
GGML = {"f32": 0, "f16": 1, "bf16": 30}
ALIGN = 32
FILE_TYPE = {"f32": 0, "f16": 1, "bf16": 32}   # general.file_type (llama_ftype) of an all-f32/f16/bf16 file
# The synthetic byte-level BPE of vocab(): llama.cpp's 'gpt2' model with the Llama 3 pre-tokenizer
TOKENIZER_META = [("tokenizer.ggml.model", T_STRING, "gpt2"), ("tokenizer.ggml.pre", T_STRING, "llama-bpe"),
                  ("tokenizer.ggml.bos_token_id", T_UINT32, 128000), ("tokenizer.ggml.eos_token_id", T_UINT32, 128001),
                  ("tokenizer.ggml.add_bos_token", T_BOOL, True)]


def byte_chars():
    """GPT-2's byte -> printable unicode mapping."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def vocab(base=128000, specials=256):
    chars = byte_chars()
    tokens = list(chars)
    merges = []
    seen = set(tokens)
    # two-char tokens, then three-char ones: each is a valid merge of two existing tokens
    i = 0
    while len(tokens) < base:
        a = tokens[i % len(chars)] if len(tokens) < 256 + 256 * 256 else tokens[256 + (i % (256 * 256))]
        b = chars[(i // (len(chars) if len(tokens) < 256 + 256 * 256 else 256 * 256)) % 256]
        i += 1
        t = a + b
        if t in seen:
            continue
        seen.add(t)
        tokens.append(t)
        merges.append(a + " " + b)
    names = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
             "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|step_id|>",
             "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"]
    k = 2
    while len(names) < specials:
        names.append("<|reserved_special_token_%d|>" % k)
        k += 1
    return tokens + names, merges


class Writer:
    def __init__(self, f):
        self.f = f

    def u32(self, v): self.f.write(struct.pack("<I", v))
    def u64(self, v): self.f.write(struct.pack("<Q", v))

    def string(self, s):
        b = s.encode("utf-8")
        self.u64(len(b))
        self.f.write(b)

    def kv(self, key, typ, value, elem=None):
        self.string(key)
        self.u32(typ)
        self.value(typ, value, elem)

    def value(self, typ, v, elem=None):
        if typ == T_UINT32: self.u32(v)
        elif typ == T_INT32: self.f.write(struct.pack("<i", v))
        elif typ == T_FLOAT32: self.f.write(struct.pack("<f", v))
        elif typ == T_BOOL: self.f.write(struct.pack("<?", v))
        elif typ == T_STRING: self.string(v)
        elif typ == T_UINT64: self.u64(v)
        elif typ == T_ARRAY:
            self.u32(elem)
            self.u64(len(v))
            if elem == T_INT32:
                self.f.write(np.asarray(v, dtype="<i4").tobytes())
            else:
                for x in v:
                    self.value(elem, x)


def to_dtype(a, dtype):
    if dtype == "f32":
        return a.astype("<f4")
    if dtype == "f16":
        return a.astype("<f2")
    u = a.astype("<f4").view("<u4")
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16  # round to nearest even
    return rounded.astype("<u2")


def llama_tensors(d, ff, kv_dim, V, L):
    """(name, shape) of a Llama GGUF's tensors in file order, shapes as PyTorch writes them ([out, in])."""
    tensors = [("token_embd.weight", (V, d)), ("output_norm.weight", (d,)), ("output.weight", (V, d))]
    for i in range(L):
        p = "blk.%d." % i
        tensors += [(p + "attn_norm.weight", (d,)), (p + "attn_q.weight", (d, d)), (p + "attn_k.weight", (kv_dim, d)),
                    (p + "attn_v.weight", (kv_dim, d)), (p + "attn_output.weight", (d, d)),
                    (p + "ffn_norm.weight", (d,)), (p + "ffn_gate.weight", (ff, d)), (p + "ffn_up.weight", (ff, d)),
                    (p + "ffn_down.weight", (d, ff))]
    return tensors


def gemma2_tensors(d, ff, kv_dim, V, L):
    """Gemma 2: tied embeddings (no output.weight), norms before and after attention and MLP."""
    tensors = [("token_embd.weight", (V, d)), ("output_norm.weight", (d,))]
    for i in range(L):
        p = "blk.%d." % i
        tensors += [(p + "attn_norm.weight", (d,)), (p + "attn_q.weight", (d, d)), (p + "attn_k.weight", (kv_dim, d)),
                    (p + "attn_v.weight", (kv_dim, d)), (p + "attn_output.weight", (d, d)),
                    (p + "post_attention_norm.weight", (d,)), (p + "ffn_norm.weight", (d,)),
                    (p + "ffn_gate.weight", (ff, d)), (p + "ffn_up.weight", (ff, d)), (p + "ffn_down.weight", (d, ff)),
                    (p + "post_ffw_norm.weight", (d,))]
    return tensors


def olmo2_tensors(d, ff, kv_dim, V, L):
    """OLMo 2: norms after attention and MLP only, RMSNorm on q (width d) and k (width kv_dim)."""
    tensors = [("token_embd.weight", (V, d)), ("output_norm.weight", (d,)), ("output.weight", (V, d))]
    for i in range(L):
        p = "blk.%d." % i
        tensors += [(p + "attn_q.weight", (d, d)), (p + "attn_k.weight", (kv_dim, d)), (p + "attn_v.weight", (kv_dim, d)),
                    (p + "attn_q_norm.weight", (d,)), (p + "attn_k_norm.weight", (kv_dim,)),
                    (p + "attn_output.weight", (d, d)), (p + "post_attention_norm.weight", (d,)),
                    (p + "ffn_gate.weight", (ff, d)), (p + "ffn_up.weight", (ff, d)), (p + "ffn_down.weight", (d, ff)),
                    (p + "post_ffw_norm.weight", (d,))]
    return tensors


def gpt2_tensors(d, ff, ctx, V, L):
    """GPT-2: LayerNorm weight + bias, fused QKV with bias, biases on every linear, learned positions."""
    tensors = [("token_embd.weight", (V, d)), ("position_embd.weight", (ctx, d)), ("output_norm.weight", (d,)),
               ("output_norm.bias", (d,)), ("output.weight", (V, d))]
    for i in range(L):
        p = "blk.%d." % i
        tensors += [(p + "attn_norm.weight", (d,)), (p + "attn_norm.bias", (d,)), (p + "attn_qkv.weight", (3 * d, d)),
                    (p + "attn_qkv.bias", (3 * d,)), (p + "attn_output.weight", (d, d)), (p + "attn_output.bias", (d,)),
                    (p + "ffn_norm.weight", (d,)), (p + "ffn_norm.bias", (d,)), (p + "ffn_up.weight", (ff, d)),
                    (p + "ffn_up.bias", (ff,)), (p + "ffn_down.weight", (d, ff)), (p + "ffn_down.bias", (d,))]
    return tensors


def family_meta(arch, d, ff, heads, kv, L, V):
    """(key, type, value) hyperparameters of arch, under its own key prefix."""
    hd = d // heads
    common = [(arch + ".embedding_length", T_UINT32, d), (arch + ".block_count", T_UINT32, L),
              (arch + ".feed_forward_length", T_UINT32, ff), (arch + ".attention.head_count", T_UINT32, heads)]
    if arch == "gpt2":
        return common + [(arch + ".context_length", T_UINT32, 2048),
                         (arch + ".attention.layer_norm_epsilon", T_FLOAT32, 1e-5)]
    common += [(arch + ".context_length", T_UINT32, 8192), (arch + ".attention.head_count_kv", T_UINT32, kv),
               (arch + ".attention.layer_norm_rms_epsilon", T_FLOAT32, 1e-6)]
    if arch == "gemma2":
        return common + [(arch + ".attention.key_length", T_UINT32, hd), (arch + ".attention.value_length", T_UINT32, hd),
                         (arch + ".attn_logit_softcapping", T_FLOAT32, 50.0),
                         (arch + ".final_logit_softcapping", T_FLOAT32, 30.0),
                         (arch + ".attention.sliding_window", T_UINT32, 4096)]
    return common + [(arch + ".rope.freq_base", T_FLOAT32, 500000.0)]


def write_gguf(path, meta, tokens, token_types, merges, tensors, dtype, rng, std=lambda name: 0.02):
    """Writes a GGUF v3: meta (key, type, value) plus the tokenizer arrays, then the tensors: 1-D ones (norms)
    F32 ones, matrices N(0, std(name)^2) in dtype, drawn from rng in file order."""
    esize = 4 if dtype == "f32" else 2
    with open(path, "wb") as f:
        w = Writer(f)
        w.u32(GGUF_MAGIC); w.u32(3); w.u64(len(tensors))
        w.u64(len(meta) + 3)
        for k, t, v in meta:
            w.kv(k, t, v)
        w.kv("tokenizer.ggml.tokens", T_ARRAY, tokens, T_STRING)
        w.kv("tokenizer.ggml.token_type", T_ARRAY, token_types, T_INT32)
        w.kv("tokenizer.ggml.merges", T_ARRAY, merges, T_STRING)
        off = 0
        for name, shape in tensors:
            w.string(name)
            w.u32(len(shape))
            for dim in reversed(shape):  # GGUF dims are innermost first
                w.u64(dim)
            w.u32(GGML["f32"] if len(shape) == 1 else GGML[dtype])   # norms stay F32, as converters write them
            w.u64(off)
            n = int(np.prod(shape)) * (4 if len(shape) == 1 else esize)
            off += (n + ALIGN - 1) // ALIGN * ALIGN
        pad = (-f.tell()) % ALIGN
        f.write(b"\0" * pad)
        for name, shape in tensors:
            n = int(np.prod(shape))
            start = f.tell()
            if len(shape) == 1:
                f.write(np.ones(n, dtype="<f4").tobytes())
            else:
                scale = std(name)
                rows_per_chunk = max(1, (1 << 24) // shape[1])
                for r in range(0, shape[0], rows_per_chunk):
                    rr = min(rows_per_chunk, shape[0] - r)
                    a = rng.standard_normal(rr * shape[1], dtype=np.float32) * scale
                    f.write(to_dtype(a, dtype).tobytes())
            written = f.tell() - start
            f.write(b"\0" * ((-written) % ALIGN))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--dtype", default="bf16", choices=sorted(GGML))
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--arch", default="llama", choices=["llama", "gemma2", "olmo2", "gpt2"])
    args = ap.parse_args()
    d, ff, heads, kv, V = 2048, 8192, 32, 8, 128256
    hd = d // heads
    L = args.layers
    tokens, merges = vocab()
    assert len(tokens) == V
    tensors = llama_tensors(d, ff, kv * hd, V, L)
    rng = np.random.default_rng(args.seed)
    if args.arch != "llama":
        tensors = {"gemma2": lambda: gemma2_tensors(d, ff, kv * hd, V, L),
                   "olmo2": lambda: olmo2_tensors(d, ff, kv * hd, V, L),
                   "gpt2": lambda: gpt2_tensors(d, ff, 2048, V, L)}[args.arch]()
        meta = [("general.architecture", T_STRING, args.arch), ("general.name", T_STRING, "random-" + args.arch),
                ("general.alignment", T_UINT32, ALIGN)] + family_meta(args.arch, d, ff, heads, kv, L, V) + [
                ("general.file_type", T_UINT32, FILE_TYPE[args.dtype])] + TOKENIZER_META
        write_gguf(args.out, meta, tokens, [1] * 128000 + [3] * 256, merges, tensors, args.dtype, rng)
        print("wrote", args.out, "tensors", len(tensors))
        return
    meta = [("general.architecture", T_STRING, "llama"), ("general.name", T_STRING, "random-llama-1b"),
            ("general.alignment", T_UINT32, ALIGN),
            ("llama.context_length", T_UINT32, 8192), ("llama.embedding_length", T_UINT32, d),
            ("llama.block_count", T_UINT32, L), ("llama.feed_forward_length", T_UINT32, ff),
            ("llama.attention.head_count", T_UINT32, heads), ("llama.attention.head_count_kv", T_UINT32, kv),
            ("llama.rope.freq_base", T_FLOAT32, 500000.0), ("llama.rope.dimension_count", T_UINT32, hd),
            ("llama.attention.layer_norm_rms_epsilon", T_FLOAT32, 1e-5), ("llama.vocab_size", T_UINT32, V),
            ("general.file_type", T_UINT32, FILE_TYPE[args.dtype])] + TOKENIZER_META
    write_gguf(args.out, meta, tokens, [1] * 128000 + [3] * 256, merges, tensors, args.dtype, rng)
    print("wrote", args.out, "tensors", len(tensors))


if __name__ == "__main__":
    main()
