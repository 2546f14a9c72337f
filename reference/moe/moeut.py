#!/usr/bin/python3
"""Golden fixtures for SwitchHead attention and MoEUT layer grouping (nn.moe), from the equations of
"SwitchHead" and "MoEUT" (Csordas et al.; ARCHITECTURES.md §4.8, §5.8), independent of the Java code:
plain PyTorch in float64 over float32-valued weights stored in the JSON.

Run: /usr/bin/python3 reference/moe/moeut.py   (writes nn/src/test/resources/golden/moeut.json)
"""

import torch

from moe_routers import D, Weights, tj, layer_norm, topk_lower_index, write


def rope_half(x, rot, theta):
    """RoPE with half pairing on the first `rot` dims of the last axis; x [T, H, dh], positions 0..T-1."""
    T = x.shape[0]
    half = rot // 2
    inv = torch.tensor([1.0 / theta ** (2.0 * i / rot) for i in range(half)], dtype=D)
    ang = torch.arange(T, dtype=D)[:, None] * inv[None, :]
    cos, sin = ang.cos()[:, None, :], ang.sin()[:, None, :]
    y = x.clone()
    a, b = x[..., :half], x[..., half:rot]
    y[..., :half] = a * cos - b * sin
    y[..., half:rot] = b * cos + a * sin
    return y


def sigmoid_topk(logits, k):
    """Per row: (indices, gates) of the k largest sigmoid gates, ties to the lower index."""
    g = torch.sigmoid(logits)
    return [[(e, g[t, e]) for e in topk_lower_index(g[t], k)] for t in range(g.shape[0])]


def make_switchhead(W, p, c):
    d, H, dh, ne, k = c["hidden"], c["heads"], c["head_dim"], c["experts"], c["top_k"]
    Wq, Wk = W.rand(p + "wq", H * dh, d), W.rand(p + "wk", H * dh, d)
    if ne == 1:
        Wv, Wo, selO = W.rand(p + "wv", H * dh, d), W.rand(p + "wo", d, H * dh), W.rand(p + "selo", H, d)
    else:
        selV, selO = W.rand(p + "selv", H * ne, d), W.rand(p + "selo", H * ne, d)
        V = [[W.rand(p + f"v{h}_{e}", dh, d) for e in range(ne)] for h in range(H)]
        O = [[W.rand(p + f"o{h}_{e}", d, dh) for e in range(ne)] for h in range(H)]

    def run(n, x):
        T = x.shape[0]
        s = dh ** -0.25
        q = rope_half((n @ Wq.T * s).view(T, H, dh), c["rotary_dim"], c["theta"])
        kk = rope_half((n @ Wk.T * s).view(T, H, dh), c["rotary_dim"], c["theta"])
        if ne == 1:
            v = (x @ Wv.T).view(T, H, dh)
        else:
            v = torch.zeros(T, H, dh, dtype=D)
            for h in range(H):
                for t, sel in enumerate(sigmoid_topk(n @ selV[h * ne:(h + 1) * ne].T, k)):
                    for e, g in sel:
                        v[t, h] += g * (x[t] @ V[h][e].T)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        o = torch.zeros(T, H, dh, dtype=D)
        for h in range(H):
            sc = (q[:, h] @ kk[:, h].T).masked_fill(mask, float("-inf"))
            o[:, h] = torch.softmax(sc, -1) @ v[:, h]
        if ne == 1:
            o = o * torch.sigmoid(n @ selO.T)[:, :, None]
            return o.reshape(T, H * dh) @ Wo.T
        a = torch.zeros(T, d, dtype=D)
        for h in range(H):
            for t, sel in enumerate(sigmoid_topk(n @ selO[h * ne:(h + 1) * ne].T, k)):
                for e, g in sel:
                    a[t] += g * (o[t, h] @ O[h][e].T)
        return a
    return run


def make_sigma_moe(W, p, c):
    d, E, m, k = c["hidden"], c["ff_experts"], c["expert_size"], c["ff_k"]
    sel = W.rand(p + "router", E, d)
    keys = [W.rand(p + f"e{j}.up", m, d) for j in range(E)]
    vals = [W.rand(p + f"e{j}.down", d, m) for j in range(E)]

    def run(x, s):
        y = torch.zeros_like(x)
        for t, chosen in enumerate(sigmoid_topk(s @ sel.T, k)):
            for e, g in chosen:
                y[t] += g * (torch.relu(x[t] @ keys[e].T) @ vals[e].T)
        return y
    return run


def make_block(W, p, c):
    d = c["hidden"]
    l1w, l1b = W.rand(p + "ln1.w", d, scale=0.2, offset=1.0), W.rand(p + "ln1.b", d, scale=0.2)
    l2w, l2b = W.rand(p + "ln2.w", d, scale=0.2, offset=1.0), W.rand(p + "ln2.b", d, scale=0.2)
    att, ffn = make_switchhead(W, p + "att.", c), make_sigma_moe(W, p + "ffn.", c)

    def run(x):
        n = layer_norm(x, l1w, l1b)
        x = x + att(n, x)
        return x + ffn(x, layer_norm(x, l2w, l2b))
    return run


def config(experts, **kw):
    c = {"hidden": 16, "heads": 2, "head_dim": 8, "experts": experts, "top_k": 2 if experts > 1 else 1,
         "rotate_fraction": 0.5, "theta": 10000.0, "rotary_dim": 4, "ff_experts": 6, "expert_size": 8, "ff_k": 2}
    c.update(kw)
    return c


def main():
    cases = []
    for name, seed, ne in (("switchhead_experts", 31, 3), ("switchhead_gated", 32, 1)):
        W = Weights(seed)
        c = config(ne)
        att = make_switchhead(W, "", c)
        n, x = W.rand(None, 7, 16, scale=1.0), W.rand(None, 7, 16, scale=1.0)
        cases.append({"name": name, "config": c, "weights": W.json(), "normed": tj(n.float()), "x": tj(x.float()),
                      "output": tj(att(n, x))})
    W = Weights(33)
    c = config(3, group=2, steps=4)
    blocks = [make_block(W, f"g{g}.", c) for g in range(c["group"])]
    x = W.rand(None, 6, 16, scale=1.0)
    y = x
    for s in range(c["steps"]):
        y = blocks[s % c["group"]](y)
    cases.append({"name": "moeut_g2_l4", "config": c, "weights": W.json(), "x": tj(x.float()), "output": tj(y)})
    write("moeut.json", "reference/moe/moeut.py", cases)


if __name__ == "__main__":
    main()
