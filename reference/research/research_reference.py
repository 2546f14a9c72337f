#!/usr/bin/python3
"""Float64 PyTorch references for execution plans, readouts and cross-layer mechanisms (issue 14).

Written from the equations of "Transformer Layers as Painters", LayerSkip, LayerDrop, "The Unreasonable
Ineffectiveness of the Deeper Layers", "What Matters in Transformers?", the logit/tuned lens and activation
patching; independent of the Java code. The model is a small Pre-LN Llama-style decoder (RMSNorm, RoPE with
half pairing, GQA, SwiGLU, final norm, untied head) with float32 weights drawn from a seeded generator and
stored in the JSON so Java reads the same numbers; expected values are float64.

Run: /usr/bin/python3 reference/research/research_reference.py
     (writes nn/src/test/resources/research/research.json)
"""
import json
import math
import os

import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "nn"))
from golden_nn import Weights  # noqa: E402  (seeded float32 weights, stored as used)

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "nn", "src", "test", "resources", "research")
D = torch.float64
CFG = dict(vocab=24, hidden=16, heads=4, kv_heads=2, head_dim=4, ffn=24, layers=6, eps=1e-5, theta=10000.0)


def tj(t):
    t = torch.as_tensor(t, dtype=D)
    return {"shape": list(t.shape), "data": [float(x) for x in t.flatten().tolist()]}


def rms(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope(x, positions):
    """x [T, H, dh], half pairing."""
    dh = x.shape[-1]
    w = torch.tensor([1.0 / CFG["theta"] ** (2 * i / dh) for i in range(dh // 2)], dtype=D)
    ang = torch.tensor(positions, dtype=D)[:, None] * w[None, :]
    c, s = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
    a, b = x[..., : dh // 2], x[..., dh // 2:]
    return torch.cat([a * c - b * s, b * c + a * s], dim=-1)


class Model:
    def __init__(self, seed):
        W = Weights(seed)
        c = CFG
        d, H, Hkv, dh, f = c["hidden"], c["heads"], c["kv_heads"], c["head_dim"], c["ffn"]
        self.emb = W.rand("embed", c["vocab"], d, scale=1.0)
        self.layers = []
        for l in range(c["layers"]):
            p = "layers.%d." % l
            self.layers.append(dict(
                attn_in=W.rand(p + "attn_in", d, scale=0.2, offset=1.0),
                q=W.rand(p + "q", H * dh, d), k=W.rand(p + "k", Hkv * dh, d), v=W.rand(p + "v", Hkv * dh, d),
                o=W.rand(p + "o", d, H * dh),
                ffn_in=W.rand(p + "ffn_in", d, scale=0.2, offset=1.0),
                gate=W.rand(p + "gate", f, d), up=W.rand(p + "up", f, d), down=W.rand(p + "down", d, f)))
        self.final = W.rand("final_norm", d, scale=0.2, offset=1.0)
        self.head = W.rand("head", c["vocab"], d)
        self.W = W

    # attention over the whole causal sequence; returns output [T, d], probabilities [H, T, T], heads o [T, H, dh]
    def attention(self, l, u, head_patch=None, uk=None, uv=None):
        """uk, uv: separate key and value inputs (MUDDFormer); default u."""
        c, P = CFG, self.layers[l]
        T, H, Hkv, dh = u.shape[0], c["heads"], c["kv_heads"], c["head_dim"]
        uk = u if uk is None else uk
        uv = u if uv is None else uv
        pos = list(range(T))
        q = rope((u @ P["q"].T).view(T, H, dh), pos)
        k = rope((uk @ P["k"].T).view(T, Hkv, dh), pos)
        v = (uv @ P["v"].T).view(T, Hkv, dh)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        probs = torch.zeros(H, T, T, dtype=D)
        o = torch.zeros(T, H, dh, dtype=D)
        for h in range(H):
            g = h // (H // Hkv)
            s = (q[:, h] @ k[:, g].T) / math.sqrt(dh)
            s = s.masked_fill(mask, -math.inf)
            probs[h] = torch.softmax(s, -1)
            o[:, h] = probs[h] @ v[:, g]
        if head_patch is not None:
            for h, rows in head_patch.items():
                o[:, h] = rows
        return o.reshape(T, H * dh) @ P["o"].T, probs, o

    def mlp(self, l, u):
        P = self.layers[l]
        g = u @ P["gate"].T
        return ((g / (1 + torch.exp(-g))) * (u @ P["up"].T)) @ P["down"].T

    def attn_sub(self, l, x, head_patch=None):
        a, probs, o = self.attention(l, rms(x, self.layers[l]["attn_in"], CFG["eps"]), head_patch)
        return x + a, probs, o

    def mlp_sub(self, l, x):
        return x + self.mlp(l, rms(x, self.layers[l]["ffn_in"], CFG["eps"]))

    def block(self, l, x, skip_attn=False, skip_mlp=False):
        if not skip_attn:
            x = self.attn_sub(l, x)[0]
        if not skip_mlp:
            x = self.mlp_sub(l, x)
        return x

    def embed(self, tokens):
        return self.emb[torch.tensor(tokens)]

    def run_plan(self, tokens, steps):
        """steps: list of (layer, group, skip_attn, skip_mlp); a group's members read the same h, mean output."""
        x = self.embed(tokens)
        i = 0
        while i < len(steps):
            l, g, sa, sm = steps[i]
            if g < 0:
                x = self.block(l, x, sa, sm)
                i += 1
                continue
            j = i
            outs = []
            while j < len(steps) and steps[j][1] == g:
                outs.append(self.block(steps[j][0], x, steps[j][2], steps[j][3]))
                j += 1
            x = sum(outs) / len(outs)
            i = j
        return rms(x, self.final, CFG["eps"])

    def streams(self, tokens, patch=None, head_patch=None):
        """Residual streams x_0..x_L, attention outputs h_l (after the attention residual), probs and heads.
        patch = (layer, position, row): replace x_layer[position] before layer `layer` (layer = L: the final)."""
        x = self.embed(tokens)
        xs, hs, probs, heads = [], [], [], []
        for l in range(CFG["layers"] + 1):
            if patch is not None and patch[0] == l:
                x = x.clone()
                x[patch[1]] = patch[2]
            xs.append(x)
            if l == CFG["layers"]:
                break
            hp = head_patch[1] if head_patch is not None and head_patch[0] == l else None
            h, p, o = self.attn_sub(l, x, hp)
            hs.append(h)
            probs.append(p)
            heads.append(o)
            x = self.mlp_sub(l, h)
        return xs, hs, probs, heads

    def logits(self, x):
        return rms(x, self.final, CFG["eps"]) @ self.head.T


def painters(kind, n, s, r=1):
    first, last = list(range(0, s + 1)), list(range(n - s, n))
    mid = list(range(s + 1, n - s))
    seq = lambda ls: [(l, -1, False, False) for l in ls]
    if kind == "skip":
        return seq(first + last)
    if kind == "middle_repeat":
        return seq(first + [n // 2] * (n - 2 * s - 1) + last)
    if kind == "reverse":
        return seq(first + mid[::-1] + last)
    if kind == "looped_parallel":
        return seq(first) + [(l, it, False, False) for it in range(r) for l in mid] + seq(last)
    raise ValueError(kind)


def plan_text(steps):
    out, i = [], 0
    suffix = lambda st: "a" if st[3] else ("f" if st[2] else "")
    while i < len(steps):
        st = steps[i]
        if st[1] < 0:
            out.append("%d%s" % (st[0], suffix(st)))
            i += 1
            continue
        j = i
        while j < len(steps) and steps[j][1] == st[1]:
            j += 1
        out.append("(" + "|".join("%d%s" % (m[0], suffix(m)) for m in steps[i:j]) + ")")
        i = j
    return ",".join(out)


def angular(a, b):
    cos = (a @ b) / (a.norm() * b.norm())
    return math.acos(max(-1.0, min(1.0, float(cos)))) / math.pi


def cos_rows(a, b):
    return ((a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)))


def main():
    m = Model(1401)
    L, n = CFG["layers"], CFG["layers"]
    clean = [3, 17, 5, 9, 21, 2, 11]
    corrupt = [3, 17, 5, 14, 21, 2, 11]
    plans = [[(l, -1, False, False) for l in range(L)],
             painters("skip", n, 1), painters("middle_repeat", n, 1), painters("reverse", n, 1),
             painters("looped_parallel", n, 1, 1), painters("looped_parallel", n, 1, 2),
             [(0, -1, False, False), (1, -1, True, False), (2, -1, False, True), (3, -1, False, False),
              (4, -1, True, False), (5, -1, False, False)],
             [(l, -1, False, False) for l in (0, 2, 4)]]
    plan_cases = [{"plan": plan_text(p), "out": tj(m.run_plan(clean, p))} for p in plans]

    xs, hs, probs, heads = m.streams(clean)
    hidden = [tj(x) for x in xs[:L]] + [tj(rms(xs[L], m.final, CFG["eps"]))]   # HF hidden_states
    lens = [tj(m.logits(x)) for x in xs]                                          # [L+1] of [T, V]
    W = m.W
    trans = []
    for l in range(L):
        A = W.rand("tuned.%d.weight" % l, CFG["hidden"], CFG["hidden"], scale=0.1)
        b = W.rand("tuned.%d.bias" % l, CFG["hidden"], scale=0.1)
        trans.append((A, b))
    tuned = [tj(m.logits(xs[l] + xs[l] @ trans[l][0].T + trans[l][1])) for l in range(L)] + [lens[L]]

    # pruning scores over two calibration samples
    runs = [m.streams(clean), m.streams(corrupt)]
    ang = {}
    for k in (1, 2, 3):
        ang[str(k)] = [sum(angular(r[0][l][-1], r[0][l + k][-1]) for r in runs) / len(runs) for l in range(L - k + 1)]
    bi = [1 - float(torch.cat([cos_rows(r[0][l], r[0][l + 1]) for r in runs]).mean()) for l in range(L)]
    attn_imp = [1 - float(torch.cat([cos_rows(r[0][l], r[1][l]) for r in runs]).mean()) for l in range(L)]
    mlp_imp = [1 - float(torch.cat([cos_rows(r[1][l], r[0][l + 1]) for r in runs]).mean()) for l in range(L)]

    # activation patching: metric = logit[last, a] - logit[last, b], a/b = clean/corrupted top tokens
    lc, lx = m.logits(xs[L])[-1], m.logits(runs[1][0][L])[-1]
    ta = int(lc.argmax())
    tb = int(lx.argmax()) if int(lx.argmax()) != ta else int(lx.topk(2).indices[1])
    metric = lambda lg: float(lg[-1, ta] - lg[-1, tb])
    T = len(clean)
    resid = [[metric(m.logits(m.streams(corrupt, patch=(l, p, xs[l][p]))[0][L])) for p in range(T)]
             for l in range(L + 1)]
    head = [[metric(m.logits(m.streams(corrupt, head_patch=(l, {h: heads[l][:, h]}))[0][L]))
             for h in range(CFG["heads"])] for l in range(L)]

    # greedy continuation (for the self-speculative invariant against an independent reference)
    seq = list(clean)
    for _ in range(8):
        seq.append(int(m.logits(m.streams(seq)[0][L])[-1].argmax()))

    # auto-contrastive decoding on the specification's example (upper/lower logits, α = 0.1, m = 1)
    u = torch.tensor([3, 2.5, 0, -1], dtype=D)
    lo = torch.tensor([3, 1, 0, -1], dtype=D)
    lu, ll = u.log_softmax(-1), lo.log_softmax(-1)
    pu = lu.exp()
    tau = min(0.1 * float(pu.max()), float(pu.sort(descending=True).values[0]))
    A = pu >= tau
    q = torch.where(A, lu - ll, torch.tensor(-math.inf, dtype=D)).softmax(-1)
    acd = torch.where(A, (q * pu[A].sum()).log(), lu)

    case = {"config": CFG, "acd": {"upper": u.tolist(), "lower": lo.tolist(), "alpha": 0.1, "log_probs": acd.tolist()}, "tokens": clean, "corrupt": corrupt, "weights": W.json(), "atol": 1e-4,
            "plans": plan_cases, "hidden_states": hidden, "lens": lens, "tuned_lens": tuned,
            "angular": ang, "block_influence": bi, "attn_importance": attn_imp, "mlp_importance": mlp_imp,
            "patch": {"target": ta, "foil": tb, "clean": metric(m.logits(xs[L])),
                      "corrupt": metric(m.logits(runs[1][0][L])), "residual": resid, "head": head},
            "attention_probs": tj(torch.stack(probs)), "greedy": seq[len(clean):]}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "research.json"), "w") as fh:
        json.dump(case, fh)
    print("wrote research.json", os.path.getsize(os.path.join(OUT, "research.json")), "bytes")


if __name__ == "__main__":
    main()
