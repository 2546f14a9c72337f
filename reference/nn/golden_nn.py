#!/usr/bin/python3
"""Golden fixtures for the nn module, written from the equations in ARCHITECTURES.md (§0-2, §5, §6.1).

Independent of the Java code: plain PyTorch in float64. Weights are drawn as float32 values from a seeded
generator and stored in the JSON (so Java reads exactly the same numbers); expected outputs are float64.

Run: /usr/bin/python3 reference/nn/golden_nn.py   (writes nn/src/test/resources/golden/*.json)
"""
import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "nn", "src", "test", "resources", "golden")
D = torch.float64


# ---------------------------------------------------------------- weights

class Weights:
    """Seeded float32 weights, returned in float64 and stored (under their name) as the float32 values drawn.
    Shared by the other nn-side generators (reference/moe, reference/research)."""

    def __init__(self, seed, digits=9):
        self.g = torch.Generator().manual_seed(seed)
        self.store = {}
        self.digits = digits   # significant digits written per value by json()

    def rand(self, name, *shape, scale=None, offset=0.0):
        """N(offset, scale²) with scale 1/sqrt(fan_in) by default; name None: drawn but not stored (inputs)."""
        fan_in = shape[-1]
        s = scale if scale is not None else 1.0 / math.sqrt(fan_in)
        t = (torch.randn(*shape, generator=self.g, dtype=torch.float32) * s + offset).to(torch.float32)
        if name is not None:
            self.store[name] = t
        return t.to(D)

    def json(self):
        fmt = "%%.%dg" % self.digits
        return {k: {"shape": list(v.shape), "data": [float(fmt % x) for x in v.flatten().tolist()]}
                for k, v in self.store.items()}


def tensor_json(t):
    return {"shape": list(t.shape), "data": [float(x) for x in t.flatten().tolist()]}


# ---------------------------------------------------------------- primitives (§1.1, §0.2)

def rms_norm(x, w, eps, one_plus):
    r = torch.sqrt((x * x).mean(-1, keepdim=True) + eps)
    g = (1.0 + w) if one_plus else w
    return x / r * g


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    y = (x - mu) / torch.sqrt(var + eps) * w
    return y + b if b is not None else y


def make_norm(W, name, cfg, dim):
    kind = cfg["type"]
    if kind == "layer":
        w = W.rand(name + ".w", dim, scale=0.2, offset=1.0)
        b = W.rand(name + ".b", dim, scale=0.2)
        return lambda x: layer_norm(x, w, b, cfg["eps"])
    if kind == "rms1p":
        w = W.rand(name + ".w", dim, scale=0.2)
        return lambda x: rms_norm(x, w, cfg["eps"], True)
    w = W.rand(name + ".w", dim, scale=0.2, offset=1.0)
    return lambda x: rms_norm(x, w, cfg["eps"], False)


def act(name, x):
    if name == "gelu_erf":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name == "gelu_tanh":
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "relu":
        return torch.clamp(x, min=0.0)
    if name == "relu2":
        return torch.clamp(x, min=0.0) ** 2
    if name == "silu":
        return x / (1.0 + torch.exp(-x))
    raise ValueError(name)


def linear(W, name, out_dim, in_dim, bias=False):
    w = W.rand(name + ".w", out_dim, in_dim)
    b = W.rand(name + ".b", out_dim, scale=0.1) if bias else None
    return lambda x: x @ w.T + (b if b is not None else 0.0)


def make_ffn(W, p, d, cfg):
    kind = cfg["kind"]
    if kind == "mlp":
        up = linear(W, p + "up", cfg["inter"], d, cfg.get("bias", False))
        down = linear(W, p + "down", d, cfg["inter"], cfg.get("bias", False))
        return lambda x: down(act(cfg["act"], up(x)))
    if kind == "gated":
        gate = linear(W, p + "gate", cfg["inter"], d)
        up = linear(W, p + "up", cfg["inter"], d)
        down = linear(W, p + "down", d, cfg["inter"])
        return lambda x: down(act(cfg["act"], gate(x)) * up(x))
    if kind == "moe":
        return make_moe(W, p, d, cfg)
    raise ValueError(kind)


# ---------------------------------------------------------------- MoE (§5.1-5.2 form A, §5.10)

def make_moe(W, p, d, cfg):
    E, k = cfg["experts"], cfg["top_k"]
    wr = W.rand(p + "router.w", E, d)
    experts = [make_ffn(W, p + "e%d." % j, d, {"kind": "gated", "inter": cfg["inter"], "act": "silu"})
               for j in range(E)]
    shared = None
    if cfg["shared"] != "none":
        shared = make_ffn(W, p + "shared.", d, {"kind": "gated", "inter": cfg["shared_inter"], "act": "silu"})
    wsg = W.rand(p + "shared_gate.w", 1, d) if cfg["shared"] == "gated" else None
    stats = {}

    def f(u):
        z = u @ wr.T
        s = torch.softmax(z, dim=-1)
        T = u.shape[0]
        y = torch.zeros_like(u)
        counts = [0] * E
        for t in range(T):
            order = sorted(range(E), key=lambda e: (-s[t, e].item(), e))[:k]  # ties: lower index wins
            w = s[t, order]
            if cfg["norm_topk"]:
                w = w / w.sum()
            for e, we in zip(order, w):
                counts[e] += 1
                y[t] += we * experts[e](u[t:t + 1])[0]
        if shared is not None:
            sh = shared(u)
            if wsg is not None:
                sh = torch.sigmoid(u @ wsg.T) * sh
            y = y + sh
        stats["counts"] = counts
        stats["entropy"] = float((-(s * torch.log(s)).sum(-1)).mean())
        return y

    f.stats = stats
    return f


# ---------------------------------------------------------------- attention (§2.1-2.6)

def llama3_rescale(inv_freq, factor, low, high, original):
    """Llama 3.1 frequency rescaling of a list of inverse frequencies: keep short wavelengths, divide long ones
    by factor, interpolate linearly in 1/wavelength between. Python floats in, python floats out."""
    out = []
    for wi in inv_freq:
        lam = 2 * math.pi / wi
        if lam < original / high:
            out.append(wi)
        elif lam > original / low:
            out.append(wi / factor)
        else:
            t = (original / lam - low) / (high - low)
            out.append((1 - t) * wi / factor + t * wi)
    return out


def inv_freq(rc, dh, seq_len):
    r = int(dh * rc["partial"])
    base = rc["theta"]
    sc = rc["scaling"]
    if sc["type"] == "dynamic" and seq_len > sc["original"]:
        f = sc["factor"]
        base = base * ((f * seq_len / sc["original"]) - (f - 1)) ** (r / (r - 2))
    w = torch.tensor([1.0 / base ** (2 * i / r) for i in range(r // 2)], dtype=D)
    if sc["type"] == "linear":
        w = w / sc["factor"]
    elif sc["type"] == "llama3":
        w = torch.tensor(llama3_rescale(w.tolist(), sc["factor"], sc["low"], sc["high"], sc["original"]), dtype=D)
    return w, r


def apply_rope(x, positions, rc, seq_len):
    """x [T, H, dh]; rotate the first r dims with the configured pairing."""
    dh = x.shape[-1]
    w, r = inv_freq(rc, dh, seq_len)
    ang = torch.tensor(positions, dtype=D)[:, None] * w[None, :]          # [T, r/2]
    cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
    y = x.clone()
    if rc["pairing"] == "half":
        a, b = x[..., : r // 2], x[..., r // 2: r]
        y[..., : r // 2] = a * cos - b * sin
        y[..., r // 2: r] = b * cos + a * sin
    else:
        a, b = x[..., 0:r:2], x[..., 1:r:2]
        y[..., 0:r:2] = a * cos - b * sin
        y[..., 1:r:2] = b * cos + a * sin
    return y


def alibi_slopes(n, max_bias):
    p = 2 ** int(math.floor(math.log2(n)))
    base = 2.0 ** (-max_bias / p)
    m = [base ** (h + 1) for h in range(p)]
    extra = 2.0 ** (-max_bias / (2 * p))
    m += [extra ** (2 * i + 1) for i in range(n - p)]
    return m


def make_attention(W, p, a, norm_cfg):
    d, H, Hkv, dh = a["hidden"], a["heads"], a["kv_heads"], a["head_dim"]
    wq = linear(W, p + "q", H * dh, d, a.get("bias_qkv", False))
    wk = linear(W, p + "k", Hkv * dh, d, a.get("bias_qkv", False))
    wv = linear(W, p + "v", Hkv * dh, d, a.get("bias_qkv", False))
    wo = linear(W, p + "o", d, H * dh, a.get("bias_o", False))
    qk = a.get("qk_norm", "none")
    qn = kn = None
    if qk == "head":
        qn, kn = make_norm(W, p + "q_norm", norm_cfg, dh), make_norm(W, p + "k_norm", norm_cfg, dh)
    elif qk == "flat":
        qn, kn = make_norm(W, p + "q_norm", norm_cfg, H * dh), make_norm(W, p + "k_norm", norm_cfg, Hkv * dh)
    tau = a["scale"] if a.get("scale", 0) else 1.0 / math.sqrt(dh)
    slopes = alibi_slopes(H, a["alibi_max_bias"]) if a["pos"] == "alibi" else None
    G = H // Hkv

    def run(x, chunks=None, key_valid=None, positions=None):
        """Processes x [T, d] in chunks (list of sizes), caching post-RoPE k, v like an incremental decoder.

        positions[i] is token i's position (default i): RoPE angle, ALiBi distance and the masks use it. A
        cached key at position pk is visible to a query at pq iff pk <= pq (causal) and |pq - pk| < window."""
        T = x.shape[0]
        chunks = chunks or [T]
        P = list(positions) if positions is not None else list(range(T))
        K = torch.zeros(0, Hkv, dh, dtype=D)
        V = torch.zeros(0, Hkv, dh, dtype=D)
        outs = []
        past = 0
        for c in chunks:
            u = x[past:past + c]
            q, k, v = wq(u), wk(u), wv(u)
            if qk == "flat":
                q, k = qn(q), kn(k)
            q, k, v = q.view(c, H, dh), k.view(c, Hkv, dh), v.view(c, Hkv, dh)
            if qk == "head":
                q, k = qn(q), kn(k)
            pos = P[past:past + c]
            if a["pos"] == "rope":
                q = apply_rope(q, pos, a["rope"], max(pos) + 1)
                k = apply_rope(k, pos, a["rope"], max(pos) + 1)
            K, V = torch.cat([K, k]), torch.cat([V, v])
            S = past + c
            o = torch.zeros(c, H, dh, dtype=D)
            for h in range(H):
                g = h // G
                s = (q[:, h, :] @ K[:, g, :].T) * tau                        # [c, S]
                if a.get("softcap", 0):
                    s = a["softcap"] * torch.tanh(s / a["softcap"])
                for i in range(c):
                    qi = P[past + i]
                    for j in range(S):
                        kj = P[j]
                        vis = True
                        if a["causal"] and kj > qi:
                            vis = False
                        if a.get("window", 0) and abs(qi - kj) >= a["window"]:
                            vis = False
                        if key_valid is not None and not key_valid[j]:
                            vis = False
                        if slopes is not None:
                            s[i, j] -= slopes[h] * abs(qi - kj)
                        if not vis:
                            s[i, j] = -math.inf
                for i in range(c):
                    if torch.isinf(s[i]).all():
                        continue                                            # fully masked row -> 0
                    pr = torch.softmax(s[i], dim=-1)
                    o[i, h] = pr @ V[:, g, :]
            outs.append(wo(o.reshape(c, H * dh)))
            past += c
        return torch.cat(outs)

    return run


# ---------------------------------------------------------------- block (§0.2, §1.2-1.5)

def make_block(W, p, cfg):
    a, n = cfg["attention"], cfg["norm"]
    d = a["hidden"]
    pl = cfg["placement"]
    alpha, s = cfg.get("alpha", 1.0), cfg.get("norm_scale", 1.0)
    has_in = pl in ("pre", "peri")
    has_out = pl in ("post", "peri", "output")
    attn_in = make_norm(W, p + "attn_in", n, d) if has_in else None
    attn = make_attention(W, p + "attn.", a, n)
    attn_out = make_norm(W, p + "attn_out", n, d) if has_out else None
    shared_norm = cfg.get("parallel") and cfg.get("shared_norm")
    ffn_in = make_norm(W, p + "ffn_in", n, d) if has_in and not shared_norm else None
    ffn = make_ffn(W, p + "ffn.", d, cfg["ffn"])
    ffn_out = make_norm(W, p + "ffn_out", n, d) if has_out else None

    def sub(x, F, nin, nout):
        if pl == "pre":
            return alpha * x + F(s * nin(x))
        if pl == "post":
            return nout(alpha * x + F(x))
        if pl == "peri":
            return alpha * x + nout(F(s * nin(x)))
        if pl == "output":
            return alpha * x + nout(F(x))
        return alpha * x + F(x)

    def run(x, chunks=None, key_valid=None, positions=None):
        """Runs the block; attention is incremental over chunks, the FFN is token-wise."""
        A = lambda u: attn(u, chunks, key_valid, positions)
        if cfg.get("parallel"):
            u1 = s * attn_in(x)
            u2 = u1 if ffn_in is None else s * ffn_in(x)
            return alpha * x + A(u1) + ffn(u2)
        h = sub(x, A, attn_in, attn_out)
        return sub(h, ffn, ffn_in, ffn_out)

    run.ffn = ffn
    return run


# ---------------------------------------------------------------- cases

def attn_cfg(**kw):
    c = {"hidden": 16, "heads": 4, "kv_heads": 4, "head_dim": 4, "context": 16, "causal": True, "window": 0,
         "pos": "none", "alibi_max_bias": 0.0, "qk_norm": "none", "softcap": 0.0, "scale": 0.0}
    c.update(kw)
    return c


def rope(theta=10000.0, pairing="half", partial=1.0, scaling=None):
    return {"theta": theta, "pairing": pairing, "partial": partial, "scaling": scaling or {"type": "none"}}


RMS = {"type": "rms", "eps": 1e-6}
RMS1P = {"type": "rms1p", "eps": 1e-6}
LN = {"type": "layer", "eps": 1e-5}


def attention_cases():
    T = 7
    return [
        ("mha", attn_cfg(), None),
        ("gqa_rope_half", attn_cfg(kv_heads=2, pos="rope", rope=rope()), None),
        ("mqa_rope_interleaved", attn_cfg(kv_heads=1, pos="rope", rope=rope(pairing="interleaved")), None),
        ("headdim_partial_rope", attn_cfg(heads=3, kv_heads=3, head_dim=8, pos="rope", rope=rope(partial=0.5)),
         None),
        ("rope_linear", attn_cfg(kv_heads=2, pos="rope", rope=rope(scaling={"type": "linear", "factor": 4.0})), None),
        ("rope_dynamic_ntk", attn_cfg(kv_heads=2, pos="rope",
                                      rope=rope(scaling={"type": "dynamic", "factor": 2.0, "original": 4})), None),
        ("rope_llama3", attn_cfg(heads=2, kv_heads=1, head_dim=8, pos="rope",
                                 rope=rope(scaling={"type": "llama3", "factor": 8.0, "low": 1.0, "high": 4.0,
                                                    "original": 64})), None),
        ("alibi", attn_cfg(heads=6, kv_heads=6, head_dim=4, pos="alibi", alibi_max_bias=8.0), None),
        ("qk_norm_head", attn_cfg(kv_heads=2, pos="rope", rope=rope(), qk_norm="head"), RMS),
        ("qk_norm_flat", attn_cfg(kv_heads=2, pos="rope", rope=rope(), qk_norm="flat"), RMS),
        ("qk_norm_head_gemma", attn_cfg(kv_heads=2, pos="rope", rope=rope(), qk_norm="head"), RMS1P),
        ("softcap", attn_cfg(kv_heads=2, softcap=0.5), None),
        ("query_pre_attn_scalar", attn_cfg(kv_heads=2, pos="rope", rope=rope(), scale=1.0 / math.sqrt(3.0)), None),
        ("sliding_window", attn_cfg(kv_heads=2, pos="rope", rope=rope(), window=3), None),
        ("biases", attn_cfg(kv_heads=2, pos="rope", rope=rope(), bias_qkv=True, bias_o=True), None),
        ("bidirectional_padding", attn_cfg(kv_heads=2, causal=False), None),
    ], T


def gen_attention():
    cases, T = attention_cases()
    out = []
    for i, (name, a, norm) in enumerate(cases):
        seed = 100 + i
        W = Weights(seed)
        run = make_attention(W, "", a, norm or RMS)
        x = torch.randn(T, a["hidden"], generator=torch.Generator().manual_seed(seed + 1000), dtype=torch.float32)
        xj = {"shape": [T, a["hidden"]], "data": [float("%.9g" % v) for v in x.flatten().tolist()]}
        x = torch.tensor(xj["data"], dtype=D).view(T, a["hidden"])
        key_valid = [True] * (T - 2) + [False, False] if name == "bidirectional_padding" else None
        y = run(x, None, key_valid)
        case = {"name": name, "seed": seed, "atol": 1e-4, "attention": a, "qk_norm_type": (norm or RMS),
                "weights": W.json(), "x": xj, "output": tensor_json(y)}
        if key_valid is not None:
            case["key_valid"] = key_valid
        if a.get("pos") == "rope" and a["rope"]["scaling"]["type"] == "dynamic":
            case["output_decode"] = tensor_json(run(x, [1] * T))                 # HF dynamic-NTK decode semantics
        out.append(case)
    return out


def block_cases():
    g = attn_cfg(kv_heads=2, pos="rope", rope=rope())
    swiglu = {"kind": "gated", "act": "silu", "inter": 24}
    return [
        ("pre_swiglu", {"attention": g, "norm": RMS, "placement": "pre", "ffn": swiglu}),
        ("post_layernorm_gelu_erf", {"attention": attn_cfg(), "norm": LN, "placement": "post",
                                     "ffn": {"kind": "mlp", "act": "gelu_erf", "inter": 32, "bias": True}}),
        ("peri_gemma_geglu", {"attention": attn_cfg(kv_heads=2, pos="rope", rope=rope(), softcap=20.0, window=4,
                                                    scale=0.4, qk_norm="head"),
                              "norm": RMS1P, "placement": "peri",
                              "ffn": {"kind": "gated", "act": "gelu_tanh", "inter": 24}}),
        ("output_olmo2", {"attention": attn_cfg(kv_heads=2, pos="rope", rope=rope(), qk_norm="flat"), "norm": RMS,
                          "placement": "output", "ffn": swiglu}),
        ("none_relu", {"attention": g, "norm": RMS, "placement": "none",
                       "ffn": {"kind": "mlp", "act": "relu", "inter": 32}}),
        ("pre_lns_relu2", {"attention": g, "norm": RMS, "placement": "pre", "norm_scale": 1.0 / math.sqrt(3.0),
                           "ffn": {"kind": "mlp", "act": "relu2", "inter": 32}}),
        ("post_deepnorm", {"attention": attn_cfg(), "norm": LN, "placement": "post", "alpha": 2.0,
                           "ffn": {"kind": "mlp", "act": "gelu_tanh", "inter": 32}}),
        ("parallel_gptj", {"attention": attn_cfg(pos="rope", rope=rope(pairing="interleaved", partial=0.5)),
                           "norm": LN, "placement": "pre", "parallel": True, "shared_norm": True,
                           "ffn": {"kind": "mlp", "act": "gelu_tanh", "inter": 32, "bias": True}}),
        ("parallel_neox", {"attention": attn_cfg(pos="rope", rope=rope(partial=0.5), bias_qkv=True, bias_o=True),
                           "norm": LN, "placement": "pre", "parallel": True,
                           "ffn": {"kind": "mlp", "act": "gelu_erf", "inter": 32, "bias": True}}),
        ("pre_mixtral_moe", {"attention": g, "norm": RMS, "placement": "pre",
                             "ffn": {"kind": "moe", "experts": 4, "top_k": 2, "norm_topk": True, "shared": "none",
                                     "inter": 12}}),
    ]


def gen_blocks():
    out = []
    T = 7
    for i, (name, cfg) in enumerate(block_cases()):
        seed = 200 + i
        W = Weights(seed)
        run = make_block(W, "", cfg)
        d = cfg["attention"]["hidden"]
        x = torch.randn(T, d, generator=torch.Generator().manual_seed(seed + 1000), dtype=torch.float32)
        xj = {"shape": [T, d], "data": [float("%.9g" % v) for v in x.flatten().tolist()]}
        x = torch.tensor(xj["data"], dtype=D).view(T, d)
        y = run(x)
        out.append({"name": name, "seed": seed, "atol": 1e-4, "block": cfg, "weights": W.json(), "x": xj,
                    "output": tensor_json(y)})
    return out


def gen_moe():
    out = []
    T = 9
    cases = [
        ("mixtral", {"kind": "moe", "experts": 4, "top_k": 2, "norm_topk": True, "shared": "none", "inter": 12}),
        ("olmoe_no_renorm", {"kind": "moe", "experts": 6, "top_k": 3, "norm_topk": False, "shared": "none",
                             "inter": 8}),
        ("qwen2_moe_gated_shared", {"kind": "moe", "experts": 4, "top_k": 2, "norm_topk": False, "shared": "gated",
                                    "inter": 8, "shared_inter": 20}),
        ("deepseek_always_shared", {"kind": "moe", "experts": 5, "top_k": 2, "norm_topk": False, "shared": "always",
                                    "inter": 8, "shared_inter": 16}),
    ]
    for i, (name, cfg) in enumerate(cases):
        seed = 300 + i
        W = Weights(seed)
        f = make_moe(W, "", 16, cfg)
        x = torch.randn(T, 16, generator=torch.Generator().manual_seed(seed + 1000), dtype=torch.float32)
        xj = {"shape": [T, 16], "data": [float("%.9g" % v) for v in x.flatten().tolist()]}
        x = torch.tensor(xj["data"], dtype=D).view(T, 16)
        y = f(x)
        out.append({"name": name, "seed": seed, "atol": 1e-4, "moe": cfg, "weights": W.json(), "x": xj,
                    "output": tensor_json(y), "tokens_per_expert": f.stats["counts"],
                    "mean_entropy": f.stats["entropy"]})
    return out


def gen_stacks():
    out = []
    # decoder: Mix-LN (layer 0 POST, rest PRE), sliding window on even layers (Gemma 2 pattern), Qwen-style
    # MoE on layer 1 (decoder_sparse_step 2), final RMSNorm, taps.
    V, d, T = 32, 16, 8
    seed = 400
    W = Weights(seed)
    emb = W.rand("embed", V, d, scale=1.0)
    layers = []
    for l in range(3):
        a = attn_cfg(kv_heads=2, pos="rope", rope=rope(), window=3 if l % 2 == 0 else 0)
        ffn = ({"kind": "moe", "experts": 4, "top_k": 2, "norm_topk": False, "shared": "gated", "inter": 8,
                "shared_inter": 12} if l == 1 else {"kind": "gated", "act": "silu", "inter": 24})
        layers.append({"attention": a, "norm": RMS, "placement": "post" if l == 0 else "pre", "ffn": ffn})
    blocks = [make_block(W, "l%d." % l, c) for l, c in enumerate(layers)]
    wf = W.rand("final.w", d, scale=0.2, offset=1.0)
    tokens = torch.randint(0, V, (T,), generator=torch.Generator().manual_seed(seed + 1)).tolist()
    x = emb[tokens]
    x, taps = run_with_taps(blocks, x)
    y = rms_norm(x, wf, 1e-6, False)
    out.append({"name": "decoder_mixln_sliding_moe", "seed": seed, "atol": 1e-4, "kind": "decoder", "vocab": V,
                "embedding_scale": 1.0, "layers": layers, "final_norm": RMS, "weights": W.json(), "tokens": tokens,
                "output": tensor_json(y), "taps": [tensor_json(t) for t in taps]})

    # Gemma-like decoder: embedding scale sqrt(d), PERI (1+w) norms, softcap, QK-norm, local/global layers.
    seed = 401
    W = Weights(seed)
    emb = W.rand("embed", V, d, scale=1.0)
    layers = []
    for l in range(2):
        a = attn_cfg(kv_heads=2, pos="rope", rope=rope(theta=10000.0 if l == 0 else 1e6), window=3 if l == 0 else 0,
                     softcap=20.0, qk_norm="head", scale=0.3)
        layers.append({"attention": a, "norm": RMS1P, "placement": "peri",
                       "ffn": {"kind": "gated", "act": "gelu_tanh", "inter": 24}})
    blocks = [make_block(W, "l%d." % l, c) for l, c in enumerate(layers)]
    wf = W.rand("final.w", d, scale=0.2)
    tokens = torch.randint(0, V, (T,), generator=torch.Generator().manual_seed(seed + 1)).tolist()
    x = emb[tokens] * math.sqrt(d)
    x, taps = run_with_taps(blocks, x)
    y = rms_norm(x, wf, 1e-6, True)
    out.append({"name": "decoder_gemma_like", "seed": seed, "atol": 1e-4, "kind": "decoder", "vocab": V,
                "embedding_scale": math.sqrt(d), "layers": layers, "final_norm": RMS1P, "weights": W.json(),
                "tokens": tokens, "output": tensor_json(y), "taps": [tensor_json(t) for t in taps]})

    # BERT-like encoder: learned positions, embedding LayerNorm, POST LayerNorm, GELU-erf MLP with biases,
    # bidirectional attention with q/k/v/o biases, last two tokens padded, no final norm.
    seed = 402
    W = Weights(seed)
    emb = W.rand("embed", V, d, scale=1.0)
    posw = W.rand("pos", 16, d, scale=0.5)
    en = make_norm(W, "embed_norm", LN, d)
    layers = []
    for l in range(2):
        a = attn_cfg(causal=False, bias_qkv=True, bias_o=True)
        layers.append({"attention": a, "norm": LN, "placement": "post",
                       "ffn": {"kind": "mlp", "act": "gelu_erf", "inter": 32, "bias": True}})
    blocks = [make_block(W, "l%d." % l, c) for l, c in enumerate(layers)]
    tokens = torch.randint(0, V, (T,), generator=torch.Generator().manual_seed(seed + 1)).tolist()
    valid = [True] * (T - 2) + [False, False]
    x = en(emb[tokens] + posw[:T])
    x, taps = run_with_taps(blocks, x, None, valid)
    out.append({"name": "encoder_bert_like", "seed": seed, "atol": 1e-4, "kind": "encoder", "vocab": V,
                "embedding_scale": 1.0, "layers": layers, "embedding_norm": LN, "learned_positions": 16,
                "weights": W.json(), "tokens": tokens, "valid": valid, "output": tensor_json(x),
                "taps": [tensor_json(t) for t in taps]})
    return out


# ---------------------------------------------------------------- caller-supplied positions, ring caches

SCHEDULES = {"prefill": None, "decode": "ones", "prefill3+decode": "three"}


def schedule(kind, T):
    if kind is None:
        return [T]
    if kind == "ones":
        return [1] * T
    return [3] + [1] * (T - 3)


def gen_positions():
    """Attention with explicit positions, outputs for each chunk schedule (they differ when positions go back)."""
    gaps = [5, 6, 7, 9, 10, 12, 13]
    cases = [
        ("rope_default_gaps", attn_cfg(kv_heads=2, pos="rope", rope=rope()), gaps, None),
        ("rope_llama3_gaps", attn_cfg(heads=2, kv_heads=1, head_dim=8, pos="rope",
                                      rope=rope(scaling={"type": "llama3", "factor": 8.0, "low": 1.0, "high": 4.0,
                                                         "original": 8})), gaps, None),
        ("rope_interleaved_partial_offset", attn_cfg(heads=3, kv_heads=3, head_dim=8, pos="rope",
                                                     rope=rope(pairing="interleaved", partial=0.5)),
         [8, 9, 10, 11, 12, 13, 14], None),
        ("alibi_gaps", attn_cfg(heads=6, kv_heads=6, head_dim=4, pos="alibi", alibi_max_bias=8.0), gaps, None),
        ("window3_rope_gaps", attn_cfg(kv_heads=2, pos="rope", rope=rope(), window=3), gaps, None),
        ("left_padded_rope", attn_cfg(kv_heads=2, pos="rope", rope=rope()), [1, 1, 1, 0, 1, 2, 3],
         [False, False, False, True, True, True, True]),
    ]
    out = []
    T = 7
    for i, (name, a, pos, key_valid) in enumerate(cases):
        seed = 500 + i
        W = Weights(seed)
        run = make_attention(W, "", a, RMS)
        x = torch.randn(T, a["hidden"], generator=torch.Generator().manual_seed(seed + 1000), dtype=torch.float32)
        xj = {"shape": [T, a["hidden"]], "data": [float("%.9g" % v) for v in x.flatten().tolist()]}
        x = torch.tensor(xj["data"], dtype=D).view(T, a["hidden"])
        outs = {k: tensor_json(run(x, schedule(v, T), key_valid, pos)) for k, v in SCHEDULES.items()}
        case = {"name": name, "seed": seed, "atol": 1e-4, "attention": a, "qk_norm_type": RMS, "weights": W.json(),
                "x": xj, "positions": pos, "outputs": outs}
        if key_valid is not None:
            case["key_valid"] = key_valid
        out.append(case)
    return out


def decoder_case(name, seed, V, d, T, layers, final, scale, positions, learned=0, context=32):
    """A decoder stack: x0 = embed*scale (+ learned pos table[positions]); blocks; final norm. Whole sequence
    at once (attention results do not depend on the chunking when positions increase)."""
    W = Weights(seed)
    emb = W.rand("embed", V, d, scale=1.0)
    posw = W.rand("pos", learned, d, scale=0.5) if learned else None
    blocks = [make_block(W, "l%d." % l, c) for l, c in enumerate(layers)]
    fin = make_norm(W, "final", final, d)
    tokens = torch.randint(0, V, (T,), generator=torch.Generator().manual_seed(seed + 1)).tolist()
    x = emb[tokens] * scale
    if posw is not None:
        x = x + posw[positions]
    for b in blocks:
        x = b(x, None, None, positions)
    case = {"name": name, "seed": seed, "atol": 1e-4, "kind": "decoder", "vocab": V, "context": context,
            "embedding_scale": scale, "layers": layers, "final_norm": final, "weights": W.json(), "tokens": tokens,
            "positions": positions, "output": tensor_json(fin(x))}
    if learned:
        case["learned_positions"] = learned
    return case


def gen_ring():
    """Sliding-window stacks for the ring KV cache: local, local, global layers (window 4), 19 tokens."""
    V, d, T = 32, 16, 19
    out = []
    layers = []
    for l in range(3):
        local = l != 2
        a = attn_cfg(kv_heads=2, context=32, pos="rope", rope=rope(theta=10000.0 if local else 1e6),
                     window=4 if local else 0, qk_norm="head", softcap=20.0, scale=0.3)
        layers.append({"attention": a, "norm": RMS1P, "placement": "peri",
                       "ffn": {"kind": "gated", "act": "gelu_tanh", "inter": 24}})
    out.append(decoder_case("ring_local_global_w4", 600, V, d, T, layers, RMS1P, math.sqrt(d), list(range(T))))
    # the same stack at increasing positions with gaps (explicit positions through the ring)
    gapped = [i + i // 4 + 2 for i in range(T)]
    out.append(decoder_case("ring_local_global_w4_gapped_positions", 600, V, d, T, layers, RMS1P, math.sqrt(d),
                            gapped))
    # ALiBi local/global (window 4) and learned absolute positions (GPT-2-like) at explicit positions
    alayers = []
    for l in range(2):
        a = attn_cfg(heads=4, kv_heads=4, context=32, pos="alibi", alibi_max_bias=8.0, window=4 if l == 0 else 0)
        alayers.append({"attention": a, "norm": LN, "placement": "pre",
                        "ffn": {"kind": "mlp", "act": "gelu_tanh", "inter": 32, "bias": True}})
    out.append(decoder_case("learned_alibi_w4_gapped_positions", 601, V, d, T, alayers, LN, 1.0, gapped,
                            learned=32))
    return out


def run_with_taps(blocks, x, *args):
    """x through the blocks in turn (each called with *args after x): the output, and the taps (x, then every
    block's output)."""
    taps = [x]
    for b in blocks:
        x = b(x, *args)
        taps.append(x)
    return x, taps


def write(name, cases):
    doc = {"format": "interlayer-nn-golden", "version": 1, "generator": "reference/nn/golden_nn.py (PyTorch "
           + torch.__version__ + ", float64)", "cases": cases}
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    write("attention.json", gen_attention())
    write("blocks.json", gen_blocks())
    write("moe.json", gen_moe())
    write("stacks.json", gen_stacks())
    write("positions.json", gen_positions())
    write("ring.json", gen_ring())
