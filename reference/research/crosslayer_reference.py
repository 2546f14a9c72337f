#!/usr/bin/python3
"""Float64 PyTorch references for the cross-layer mechanisms (issue 14), written from the equations of
DenseFormer (package and experiment DWA, period p, dilation k), ResFormer/SVFormer value residual, KV shifting
attention, persistent memory vectors, cross-layer KV sharing (CLA) and static hyper-connections. Same small
Pre-LN Llama-style model as research_reference.py (weights stored in research.json; the extra parameters of
each mechanism are stored here).

Run: /usr/bin/python3 reference/research/crosslayer_reference.py
     (writes nn/src/test/resources/research/crosslayer.json)
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from research_reference import CFG, D, OUT, Model, Weights, rms, rope, tj  # noqa: E402


def attention(m, l, u, ctx, opt):
    """Causal GQA attention of layer l on its normed input u [T, d] with the mechanism options."""
    c, P = CFG, m.layers[l]
    T, H, Hkv, dh = u.shape[0], c["heads"], c["kv_heads"], c["head_dim"]
    pos = list(range(T))
    q = rope((u @ P["q"].T).view(T, H, dh), pos)
    src = l - l % opt.get("share", 1)                    # CLA: layers of a group read the first layer's K, V
    if src != l:
        k, v = ctx["k"][src], ctx["v"][src]
    else:
        k = (u @ P["k"].T).view(T, Hkv, dh)
        v = (u @ P["v"].T).view(T, Hkv, dh)
        if l == 0:
            ctx["v0"] = v
        vr = opt.get("value_residual")
        if vr is not None and l >= 1:
            lam = vr[l] if isinstance(vr, list) else vr            # per-layer pairs (learnable λ) or one pair
            v = lam[0] * ctx["v0"] + lam[1] * v
        sh = opt.get("kv_shift", {}).get(l)
        if sh is not None:
            ks, vs = sh
            shift = lambda z: torch.cat([torch.zeros_like(z[:1]), z[:-1]])
            k = ks[:, 1][None, :, None] * k + ks[:, 0][None, :, None] * shift(k)
            v = vs[:, 1][None, :, None] * v + vs[:, 0][None, :, None] * shift(v)
        k = rope(k, pos)
        ctx["k"][l], ctx["v"][l] = k, v
    mem = opt.get("memory", {}).get(l)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    o = torch.zeros(T, H, dh, dtype=D)
    for h in range(H):
        g = h // (H // Hkv)
        s = (q[:, h] @ k[:, g].T).masked_fill(mask, -math.inf)
        vals = v[:, g]
        if mem is not None:
            s = torch.cat([s, q[:, h] @ mem[0][h].T], dim=1)        # persistent slots: no position, never masked
            vals = torch.cat([vals, mem[1][h]])
        o[:, h] = torch.softmax(s / math.sqrt(dh), -1) @ vals
    return o.reshape(T, H * dh) @ P["o"].T


def run(m, tokens, opt):
    x = m.embed(tokens)
    ctx = {"k": {}, "v": {}}
    raw = [x]                                                   # DenseFormer: raw block outputs X_0..X_L
    dwa = opt.get("dwa")
    for l in range(CFG["layers"]):
        P = m.layers[l]
        x = x + attention(m, l, rms(x, P["attn_in"], CFG["eps"]), ctx, opt)
        if not (l in opt.get("memory", {}) and opt.get("replace_ffn")):
            x = m.mlp_sub(l, x)
        if dwa is not None:
            x = dwa_step(dwa, l, x, raw)
    return rms(x, m.final, CFG["eps"])


def dwa_step(dwa, i, x, raw):
    p, k, mode, w = dwa["period"], dwa["dilation"], dwa["mode"], dwa["weights"]
    nxt = i + 1
    if mode == "package":
        raw.append(x)
        if nxt % p:
            return x
        J = [j for j in range(nxt + 1) if j % k == nxt % k]
        return sum(wj * raw[j] for wj, j in zip(w[nxt // p - 1], J))
    if nxt % p:
        return x
    r = nxt // p
    raw.append(x)                                               # raw[r] = Z_r
    Q = [q for q in range(r + 1) if q % k == r % k]
    return sum(wq * raw[q] for wq, q in zip(w[r - 1], Q))


def dwa_sizes(L, p, k, mode):
    if mode == "package":
        return [(i + 1 + k) // k for i in range(L) if (i + 1) % p == 0]
    return [(r + k) // k for r in range(1, L // p + 1)]


def hyper(m, tokens, n, params):
    """Static hyper-connections: per sublayer (2 per layer) A_m [n], A_r [n, n], B [n]."""
    x0 = m.embed(tokens)
    Hs = torch.stack([x0] * n)                                  # [n, T, d]
    ctx = {"k": {}, "v": {}}
    for l in range(CFG["layers"]):
        P = m.layers[l]
        for sub in range(2):
            Am, Ar, B = params[2 * l + sub]
            h_in = torch.einsum("s,std->td", Am, Hs)
            if sub == 0:
                out = attention(m, l, rms(h_in, P["attn_in"], CFG["eps"]), ctx, {})
            else:
                out = m.mlp(l, rms(h_in, P["ffn_in"], CFG["eps"]))
            Hs = torch.einsum("se,std->etd", Ar, Hs) + B[:, None, None] * out[None]
    return rms(Hs.sum(0), m.final, CFG["eps"])


def attention_qkv(m, l, uq, uk, uv):
    """Causal GQA attention of layer l with separate query, key and value inputs (MUDDFormer)."""
    return m.attention(l, uq, uk=uk, uv=uv)[0]


def mudd(m, tokens, params):
    """MUDDFormer: per-token dynamic dense weights for the Q, K, V and R streams of the next block."""
    L, eps = CFG["layers"], CFG["eps"]
    gelu = lambda z: 0.5 * z * (1.0 + torch.erf(z / math.sqrt(2.0)))
    X = [m.embed(tokens)]
    S = None
    for i in range(L):
        P = m.layers[i]
        if i == 0:
            h = X[0] + attention_qkv(m, 0, *([rms(X[0], P["attn_in"], eps)] * 3))
        else:
            nq, nk, nv = params["norms"][i]
            h = S[3] + attention_qkv(m, i, rms(S[0], nq, eps), rms(S[1], nk, eps), rms(S[2], nv, eps))
        X.append(m.mlp_sub(i, h))
        C, n = (4 if i < L - 1 else 1), i + 2
        z = X[-1] / torch.sqrt((X[-1] ** 2).mean(-1, keepdim=True) + eps)
        W1, W2, B = params["dense"][i]
        w = (gelu(z @ W1.T) @ W2.T).view(-1, C, n) + B[None]
        S = [sum(w[:, c, j, None] * X[j] for j in range(n)) for c in range(C)]
    return rms(S[0], m.final, eps)


def main():
    m = Model(1401)
    W = Weights(77)
    L, Hkv, H, dh = CFG["layers"], CFG["kv_heads"], CFG["heads"], CFG["head_dim"]
    tokens = [3, 17, 5, 9, 21, 2, 11]
    cases = []

    for p, k, mode in [(1, 1, "package"), (2, 2, "package"), (2, 1, "experiment"), (3, 2, "experiment")]:
        w = [W.rand("dwa.%d.%d.%s.%d" % (p, k, mode, i), s, scale=0.5, offset=1.0 / s).tolist()
             for i, s in enumerate(dwa_sizes(L, p, k, mode))]
        dwa = dict(period=p, dilation=k, mode=mode, weights=w)
        cases.append({"name": "dwa_p%d_k%d_%s" % (p, k, mode), "dwa": dwa,
                      "out": tj(run(m, tokens, {"dwa": dwa}))})

    cases.append({"name": "resformer", "lambda": [0.5, 0.5],
                  "out": tj(run(m, tokens, {"value_residual": (0.5, 0.5)}))})
    cases.append({"name": "resformer_learned", "lambda": [0.3, 0.9],
                  "out": tj(run(m, tokens, {"value_residual": (0.3, 0.9)}))})
    cases.append({"name": "svformer", "lambda": [1.0, 0.0],
                  "out": tj(run(m, tokens, {"value_residual": (1.0, 0.0)}))})

    shift = {}
    for l in (0, 2, 3):
        a = W.rand("kvshift.%d.k" % l, Hkv, 2, scale=0.3, offset=0.5)
        b = W.rand("kvshift.%d.v" % l, Hkv, 2, scale=0.3, offset=0.5)
        shift[l] = (a, b)
    cases.append({"name": "kv_shift", "layers": [0, 2, 3], "out": tj(run(m, tokens, {"kv_shift": shift}))})

    N = 3
    mem = {}
    for l in (1, 4):
        mem[l] = (W.rand("memory.%d.key" % l, H, N, dh, scale=1.0), W.rand("memory.%d.value" % l, H, N, dh, scale=1.0))
    cases.append({"name": "persistent_memory", "layers": [1, 4], "size": N,
                  "out": tj(run(m, tokens, {"memory": mem}))})
    cases.append({"name": "persistent_memory_replace_ffn", "layers": [1, 4], "size": N,
                  "out": tj(run(m, tokens, {"memory": mem, "replace_ffn": True}))})

    for share in (2, 3):
        cases.append({"name": "cla_%d" % share, "share": share, "out": tj(run(m, tokens, {"share": share}))})

    n = 2
    params = []
    for s in range(2 * L):
        Am = W.rand("hc.%d.am" % s, n, scale=0.3, offset=0.5)
        Ar32 = W.rand("hc.%d.ar" % s, n, n, scale=0.3).to(torch.float32) + torch.eye(n, dtype=torch.float32)
        W.store["hc.%d.ar" % s] = Ar32                      # stored as used: A_r = I + noise, in float32
        Ar = Ar32.to(D)
        B = W.rand("hc.%d.b" % s, n, scale=0.3, offset=1.0)
        params.append((Am, Ar, B))
    cases.append({"name": "hyper_connections", "rate": n, "out": tj(hyper(m, tokens, n, params))})

    params = {"norms": {}, "dense": {}}
    for i in range(L):
        C, n = (4 if i < L - 1 else 1), i + 2
        hid = C * n
        W1 = W.rand("mudd.%d.w1" % i, hid, CFG["hidden"])
        W2 = W.rand("mudd.%d.w2" % i, C * n, hid, scale=0.1)
        Bz = W.rand("mudd.%d.b" % i, C, n, scale=0.3, offset=1.0 / n)
        params["dense"][i] = (W1, W2, Bz)
        if i >= 1:
            params["norms"][i] = tuple(W.rand("mudd.%d.norm%d" % (i, j), CFG["hidden"], scale=0.2, offset=1.0)
                                       for j in range(3))
    cases.append({"name": "muddformer", "out": tj(mudd(m, tokens, params))})

    lam = W.rand("value_residual_lambda", L, 2, scale=0.3, offset=0.5)     # [L, 2], row 0 unused
    cases.append({"name": "resformer_per_layer", "out": tj(run(m, tokens, {"value_residual": [tuple(r) for r in
                                                                                           lam.tolist()]}))})

    doc = {"tokens": tokens, "atol": 1e-4, "weights": W.json(), "cases": cases}
    with open(os.path.join(OUT, "crosslayer.json"), "w") as fh:
        json.dump(doc, fh)
    print("wrote crosslayer.json", os.path.getsize(os.path.join(OUT, "crosslayer.json")), "bytes")


if __name__ == "__main__":
    main()
