#!/usr/bin/python3
"""Float64 PyTorch reference for Transformer-XL segment recurrence with relative positional attention (issue 14;
Dai et al., "Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context", 2019).

Written in the structure of the paper's released code (kimiyoung/transformer-xl, mem_transformer.py): one fused
qkv projection over concat(mems, x), the relative term computed for all (i, j) with the `rel_shift` trick, masks
built with triu/tril, memories updated from the per-layer inputs. The Java side (nn.xl) computes the same scores
with the direct formula (distance δ = M + i − j), so the two are independent computations of the same equations.

Cases: post-LN with memory, pre-LN with per-layer (untied) biases + clamp_len + same_length, and mem_len = 0.
Each case runs a token sequence in segments and records every segment's last-layer output and logits.

Run: /usr/bin/python3 reference/research/xl_reference.py   (writes nn/src/test/resources/research/xl.json)
"""
import json
import math
import os

import torch

D = torch.float64
VOCAB, DM, HEADS, DH, FFN, LAYERS, EPS = 24, 16, 2, 8, 24, 3, 1e-5
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "nn", "src", "test", "resources", "research", "xl.json")


def tj(t):
    t = torch.as_tensor(t, dtype=D)
    return {"shape": list(t.shape), "data": [float(x) for x in t.flatten().tolist()]}


def layer_norm(x, w, b):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, EPS)


def pos_emb(pos_seq):
    inv_freq = 1 / (10000 ** (torch.arange(0.0, DM, 2.0, dtype=D) / DM))
    sinusoid = torch.outer(pos_seq, inv_freq)
    return torch.cat([sinusoid.sin(), sinusoid.cos()], dim=-1)           # halves, not interleaved


def rel_shift(x):
    """x [qlen, klen, H]: row i shifted so that column j holds the term of distance (klen − qlen + i) − j."""
    zero_pad = torch.zeros((x.size(0), 1, x.size(2)), dtype=D)
    x_padded = torch.cat([zero_pad, x], dim=1).view(x.size(1) + 1, x.size(0), x.size(2))
    return x_padded[1:].view_as(x)


def weights(gen, untie):
    def r(*shape, s=0.3):
        return torch.randn(*shape, generator=gen, dtype=D) * s
    w = {"embedding": r(VOCAB, DM, s=1.0), "head.weight": r(VOCAB, DM), "head.bias": r(VOCAB, s=0.1)}
    if not untie:
        w["r_w_bias"], w["r_r_bias"] = r(HEADS, DH), r(HEADS, DH)
    for l in range(LAYERS):
        p = f"layers.{l}."
        w[p + "qkv"] = r(3 * HEADS * DH, DM)
        w[p + "r_net"] = r(HEADS * DH, DM)
        w[p + "o"] = r(DM, HEADS * DH)
        if untie:
            w[p + "r_w_bias"], w[p + "r_r_bias"] = r(HEADS, DH), r(HEADS, DH)
        w[p + "attn_norm.weight"], w[p + "attn_norm.bias"] = 1 + r(DM, s=0.1), r(DM, s=0.1)
        w[p + "ff.up.weight"], w[p + "ff.up.bias"] = r(FFN, DM), r(FFN, s=0.1)
        w[p + "ff.down.weight"], w[p + "ff.down.bias"] = r(DM, FFN), r(DM, s=0.1)
        w[p + "ff_norm.weight"], w[p + "ff_norm.bias"] = 1 + r(DM, s=0.1), r(DM, s=0.1)
    return w


def attn(w, l, x, r, mems, mask, cfg):
    p = f"layers.{l}."
    qlen = x.size(0)
    cat = torch.cat([mems, x], 0)
    if cfg["pre_lnorm"]:
        cat = layer_norm(cat, w[p + "attn_norm.weight"], w[p + "attn_norm.bias"])
    heads = cat @ w[p + "qkv"].T
    q, k, v = torch.chunk(heads, 3, dim=-1)
    q = q[-qlen:].view(qlen, HEADS, DH)
    klen = k.size(0)
    k, v = k.view(klen, HEADS, DH), v.view(klen, HEADS, DH)
    rk = (r @ w[p + "r_net"].T).view(r.size(0), HEADS, DH)
    rwb = w[p + "r_w_bias"] if cfg["untie_r"] else w["r_w_bias"]
    rrb = w[p + "r_r_bias"] if cfg["untie_r"] else w["r_r_bias"]
    ac = torch.einsum("ind,jnd->ijn", q + rwb, k)
    bd = rel_shift(torch.einsum("ind,jnd->ijn", q + rrb, rk))
    score = ((ac + bd) / math.sqrt(DH)).masked_fill(mask[:, :, None], -math.inf)
    prob = torch.softmax(score, dim=1)
    out = torch.einsum("ijn,jnd->ind", prob, v).reshape(qlen, HEADS * DH) @ w[p + "o"].T
    if cfg["pre_lnorm"]:
        return x + out
    return layer_norm(x + out, w[p + "attn_norm.weight"], w[p + "attn_norm.bias"])


def ff(w, l, x, cfg):
    p = f"layers.{l}."
    core = lambda z: torch.relu(z @ w[p + "ff.up.weight"].T + w[p + "ff.up.bias"]) @ w[p + "ff.down.weight"].T \
        + w[p + "ff.down.bias"]
    if cfg["pre_lnorm"]:
        return x + core(layer_norm(x, w[p + "ff_norm.weight"], w[p + "ff_norm.bias"]))
    return layer_norm(x + core(x), w[p + "ff_norm.weight"], w[p + "ff_norm.bias"])


def segment(w, tokens, mems, cfg):
    """One segment: returns (last-layer output [T, d], logits [T, V], new mems)."""
    qlen = len(tokens)
    x = w["embedding"][torch.tensor(tokens)] * math.sqrt(DM)
    mlen = mems[0].size(0)
    klen = mlen + qlen
    ones = torch.ones(qlen, klen, dtype=torch.bool)
    if cfg["same_length"]:
        mask_len = klen - cfg["mem_len"]
        shift = qlen - mask_len if mask_len > 0 else qlen
        mask = torch.triu(ones, 1 + mlen) | torch.tril(ones, -shift)
    else:
        mask = torch.triu(ones, 1 + mlen)
    pos_seq = torch.arange(klen - 1, -1, -1.0, dtype=D)
    if cfg["clamp_len"] > 0:
        pos_seq = pos_seq.clamp(max=cfg["clamp_len"])
    r = pos_emb(pos_seq)
    hids = [x]
    for l in range(LAYERS):
        x = ff(w, l, attn(w, l, x, r, mems[l], mask, cfg), cfg)
        hids.append(x)
    end = mlen + qlen
    beg = max(0, end - cfg["mem_len"])
    new_mems = [torch.cat([mems[l], hids[l]], 0)[beg:end] for l in range(LAYERS)]
    return x, x @ w["head.weight"].T + w["head.bias"], new_mems


def run_case(name, w, tokens, schedule, cfg):
    mems = [torch.zeros(0, DM, dtype=D) for _ in range(LAYERS)]
    outs, logits, at = [], [], 0
    for n in schedule:
        h, lg, mems = segment(w, tokens[at:at + n], mems, cfg)
        outs.append(h)
        logits.append(lg)
        at += n
    return {"name": name, "config": cfg, "schedule": schedule, "out": tj(torch.cat(outs)),
            "logits": tj(torch.cat(logits))}


def main():
    gen = torch.Generator().manual_seed(20261206)
    tied, untied = weights(gen, False), weights(gen, True)
    tokens = [3, 17, 5, 9, 22, 1, 14, 8, 11, 0, 19]
    cases = [
        run_case("post_ln_mem6", tied, tokens, [4, 3, 4],
                 dict(mem_len=6, clamp_len=-1, same_length=False, pre_lnorm=False, untie_r=False)),
        run_case("post_ln_mem6_tokenwise", tied, tokens, [1] * len(tokens),
                 dict(mem_len=6, clamp_len=-1, same_length=False, pre_lnorm=False, untie_r=False)),
        run_case("pre_ln_untied_clamp_same_length", untied, tokens, [3, 5, 3],
                 dict(mem_len=4, clamp_len=3, same_length=True, pre_lnorm=True, untie_r=True)),
        run_case("pre_ln_no_memory", untied, tokens, [5, 6],
                 dict(mem_len=0, clamp_len=-1, same_length=False, pre_lnorm=True, untie_r=True)),
    ]
    doc = {"dims": dict(vocab=VOCAB, hidden=DM, heads=HEADS, head_dim=DH, ffn=FFN, layers=LAYERS, eps=EPS),
           "tokens": tokens, "weights": {"tied": {k: tj(v) for k, v in tied.items()},
                                         "untied": {k: tj(v) for k, v in untied.items()}},
           "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(doc, fh)
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
