#!/usr/bin/env python3
"""Reference BERT encoder for ../shared/models/synthetic/synth-bert-f32.gguf (llama.cpp arch `bert`), in numpy
float64, written from the equations (Devlin et al. 2018, HF BertModel semantics), independent of the Java code.

GGUF is parsed by reference/llama/llama_reference.py's read_gguf (own parser, no llama.cpp code); tensors come
back row-major [out, in] like nn.Linear. Per sequence (one at a time, so no padding mask is needed):

    x = LN(token_embd[id] + position_embd[t] + token_types[0]; token_embd_norm)
    per block:  a = concat_h softmax(Q_h K_hᵀ / √d) V_h,  Q/K/V = x Wᵀ + b   (bidirectional: bert.attention.causal false)
                x = LN(x + a W_oᵀ + b_o; attn_output_norm)
                x = LN(x + gelu(x W_upᵀ + b_up) W_downᵀ + b_down; layer_output_norm)   (exact erf GELU, as HF BERT;
                                                                                  llama.cpp uses the tanh form)
    pooled = mean_t x[t]  (bert.pooling_type 1),   embedding = pooled / max(‖pooled‖₂, 1e-12)

Writes models/src/test/resources/golden/bert/synth_bert.json. Run from the repository root:
    /usr/bin/python3 reference/bert/synth_bert_reference.py
"""
import json
import math
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "reference", "llama"))
from llama_reference import read_gguf  # noqa: E402

MODEL = os.path.join(ROOT, "..", "shared", "models", "synthetic", "synth-bert-f32.gguf")
OUT = os.path.join(ROOT, "models", "src", "test", "resources", "golden", "bert", "synth_bert.json")
CLS, SEP = 101, 102          # bge / bert-base-uncased vocabulary ([CLS], [SEP]); checked against the GGUF below
SEED = 11


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)           # biased variance, as torch
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def encode(meta, W, ids):
    H = meta["bert.embedding_length"]
    heads = meta["bert.attention.head_count"]
    eps = meta["bert.attention.layer_norm_epsilon"]
    d = H // heads
    T = len(ids)
    x = W["token_embd.weight"][ids] + W["position_embd.weight"][:T] + W["token_types.weight"][0]   # [T, H]
    x = layer_norm(x, W["token_embd_norm.weight"], W["token_embd_norm.bias"], eps)
    for i in range(meta["bert.block_count"]):
        p = "blk.%d." % i
        lin = lambda t, n: t @ W[p + n + ".weight"].T + W[p + n + ".bias"]
        q, k, v = lin(x, "attn_q"), lin(x, "attn_k"), lin(x, "attn_v")              # [T, H]
        ctx = np.zeros((T, H))
        for h in range(heads):
            c = slice(h * d, (h + 1) * d)
            s = q[:, c] @ k[:, c].T / math.sqrt(d)                                  # [T, T]
            s = np.exp(s - s.max(-1, keepdims=True))
            ctx[:, c] = (s / s.sum(-1, keepdims=True)) @ v[:, c]
        x = layer_norm(x + lin(ctx, "attn_output"), W[p + "attn_output_norm.weight"], W[p + "attn_output_norm.bias"], eps)
        x = layer_norm(x + lin(gelu(lin(x, "ffn_up")), "ffn_down"),
                       W[p + "layer_output_norm.weight"], W[p + "layer_output_norm.bias"], eps)
    return x


def main():
    meta, W = read_gguf(MODEL)
    assert meta["general.architecture"] == "bert" and meta["bert.pooling_type"] == 1
    assert not meta["bert.attention.causal"]
    toks = meta["tokenizer.ggml.tokens"]
    assert toks[CLS] == "[CLS]" and toks[SEP] == "[SEP]"
    assert toks[7592] == "\u2581hello" and toks[2088] == "\u2581world"
    rng = np.random.RandomState(SEED)
    ids = [
        [CLS, 7592, 2088, SEP],                                   # "hello world" in the bge vocabulary
        [CLS, SEP],                                               # empty text
        [CLS] + [int(t) for t in rng.randint(1000, 30000, size=38)] + [SEP],   # 40 tokens: the GEMM attention path
    ]
    hidden, emb = [], []
    for s in ids:
        x = encode(meta, W, s)
        pooled = x.mean(0)
        hidden.append(x.tolist())
        emb.append((pooled / max(np.linalg.norm(pooled), 1e-12)).tolist())
    result = {
        "format": "interlayer-golden", "version": 1,
        "generator": "reference/bert/synth_bert_reference.py (numpy %s, float64)" % np.__version__,
        "seed": SEED, "atol": 1e-4, "rtol": 0,
        "model": "synthetic/synth-bert-f32.gguf",
        "texts": ["hello world", "", None],
        "ids": ids,
        "last_hidden_state": hidden,
        "mean_pooled_normalized": emb,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(result, f)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
