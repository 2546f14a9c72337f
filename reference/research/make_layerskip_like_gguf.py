#!/usr/bin/env python3
"""Writes a random-weight Llama GGUF whose late layers contribute little, for self-speculative decoding speed.

What it is (and is not): NOT a LayerSkip-trained checkpoint. LayerSkip ("LayerSkip: Enabling Early Exit
Inference and Self-Speculative Decoding", Elhoushi et al.) trains with layer dropout that grows with depth plus
an early-exit loss, which pushes the late layers towards small refinements of the residual stream, so the
early exit after E layers already predicts most next tokens. This script imitates only that *shape* of the
residual stream with seeded random weights: in every layer l >= --early, the attention output projection
(attn_output) and the FFN down projection (ffn_down) are multiplied by --late-scale, so those layers add a small
update to x. The early exit after E >= --early layers then agrees with the full model on most greedy tokens;
how often is measured by the engine (acceptance rate), not assumed here. Decoding with d >= 1024 and hundreds
of MB of weights is weight-bandwidth-bound, which is the regime where verifying n drafted tokens in one
batched pass costs about as much as one decode step.

Shapes (defaults): hidden 1024, 24 layers, 16 heads, 4 KV heads, FFN 2816, vocab 8000 (7744 byte-level BPE
tokens + 256 specials), untied output.weight. Weights ~ N(0, 0.02^2); norms = 1 (F32, as converters write them).
The GGUF writer and the synthetic tokenizer are the ones of reference/bench/make_llama_gguf.py.

Usage: /usr/bin/python3 reference/research/make_layerskip_like_gguf.py /tmp/NAME.gguf [--dtype bf16|f16|f32]
         [--dim 1024] [--layers 24] [--ff 2816] [--heads 16] [--kv-heads 4] [--vocab 8000]
         [--early 6] [--late-scale 0.02] [--seed 2026]
The file is a scratch artefact: write it under /tmp, never commit it.
"""
import argparse
import importlib.util
import os
import numpy as np

_spec = importlib.util.spec_from_file_location(
    "make_llama_gguf", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "make_llama_gguf.py"))
mlg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mlg)

SPECIALS = 256


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--dtype", default="bf16", choices=sorted(mlg.GGML))
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=24)
    ap.add_argument("--ff", type=int, default=2816)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--early", type=int, default=6, help="layers [0, early) keep full-scale output projections")
    ap.add_argument("--late-scale", type=float, default=0.02,
                    help="factor on attn_output and ffn_down of layers >= early")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    d, ff, heads, kv, V, L = args.dim, args.ff, args.heads, args.kv_heads, args.vocab, args.layers
    if d % heads or heads % kv or V <= SPECIALS + 256 or not 0 <= args.early <= L:
        raise SystemExit("bad shape: need dim % heads == 0, heads % kv-heads == 0, vocab > 512, 0 <= early <= layers")
    hd = d // heads
    base = V - SPECIALS
    tokens, merges = mlg.vocab(base=base, specials=SPECIALS)
    assert len(tokens) == V
    tensors = mlg.llama_tensors(d, ff, kv * hd, V, L)

    def std(name):  # attn_output and ffn_down of layers >= early are scaled down
        layer = int(name.split(".")[1]) if name.startswith("blk.") else -1
        late = layer >= args.early and name.endswith(("attn_output.weight", "ffn_down.weight"))
        return 0.02 * (args.late_scale if late else 1.0)

    T = mlg
    meta = [("general.architecture", T.T_STRING, "llama"),
            ("general.name", T.T_STRING, "random-layerskip-like-%dx%d" % (L, d)),
            ("general.alignment", T.T_UINT32, mlg.ALIGN),
            ("llama.context_length", T.T_UINT32, 4096), ("llama.embedding_length", T.T_UINT32, d),
            ("llama.block_count", T.T_UINT32, L), ("llama.feed_forward_length", T.T_UINT32, ff),
            ("llama.attention.head_count", T.T_UINT32, heads), ("llama.attention.head_count_kv", T.T_UINT32, kv),
            ("llama.rope.freq_base", T.T_FLOAT32, 10000.0), ("llama.rope.dimension_count", T.T_UINT32, hd),
            ("llama.attention.layer_norm_rms_epsilon", T.T_FLOAT32, 1e-5), ("llama.vocab_size", T.T_UINT32, V),
            ("general.file_type", T.T_UINT32, {"f32": 0, "f16": 1, "bf16": 32}[args.dtype]),
            ("tokenizer.ggml.model", T.T_STRING, "gpt2"), ("tokenizer.ggml.pre", T.T_STRING, "llama-bpe"),
            ("tokenizer.ggml.bos_token_id", T.T_UINT32, base),
            ("tokenizer.ggml.eos_token_id", T.T_UINT32, base + 1),
            ("tokenizer.ggml.add_bos_token", T.T_BOOL, True)]
    mlg.write_gguf(args.out, meta, tokens, [1] * base + [3] * SPECIALS, merges, tensors, args.dtype,
                   np.random.default_rng(args.seed), std)
    print("wrote", args.out, "tensors", len(tensors), "late layers", L - args.early, "scaled by", args.late_scale)


if __name__ == "__main__":
    main()
