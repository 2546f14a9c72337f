#!/usr/bin/python3
"""Golden fixtures for the research MoE routers of nn.moe, written from the equations of the papers
(ARCHITECTURES.md §5.1-§5.10), independent of the Java code: plain PyTorch in float64.

Weights are drawn as float32 from a seeded generator and stored in the JSON (Java reads exactly these numbers);
expected outputs, routings and router statistics are float64.

Run: /usr/bin/python3 reference/moe/moe_routers.py   (writes nn/src/test/resources/golden/moe_routers.json)
"""
import itertools
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nn"))
import golden_nn  # noqa: E402  (the seeded weight store shared with the nn fixtures)

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "nn", "src", "test", "resources", "golden")
D = torch.float64


class Weights(golden_nn.Weights):
    """reference/nn/golden_nn.py's seeded weights, written with all 17 significant digits (as tj writes)."""

    def __init__(self, seed):
        super().__init__(seed, digits=17)


def tj(t):
    return {"shape": list(t.shape), "data": [float("%.17g" % x) for x in t.flatten().tolist()]}


def swiglu_experts(W, E, d, f):
    ex = []
    for j in range(E):
        g, u, dn = W.rand(f"e{j}.gate", f, d), W.rand(f"e{j}.up", f, d), W.rand(f"e{j}.down", d, f)
        ex.append(lambda x, g=g, u=u, dn=dn: (torch.nn.functional.silu(x @ g.T) * (x @ u.T)) @ dn.T)
    return ex


def relu_experts(W, E, d, m):
    """sigma-MoE experts ReLU(x . Keys_e) . Values_e, stored as up [m, d] = Keys_e^T and down [d, m] = Values_e^T."""
    ex = []
    for j in range(E):
        k, v = W.rand(f"e{j}.up", m, d), W.rand(f"e{j}.down", d, m)
        ex.append(lambda x, k=k, v=v: torch.relu(x @ k.T) @ v.T)
    return ex


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def topk_lower_index(s, k):
    """Top-k indices of a 1-D tensor, best first, ties to the lower index (stable sort on -s)."""
    order = sorted(range(len(s)), key=lambda i: (-float(s[i]), i))
    return order[:k]


def combine(x, assignments, experts):
    """y_t = sum over kept (t, e, w) of w * Expert_e(x_t)."""
    y = torch.zeros_like(x)
    for t, e, w, kept in assignments:
        if kept:
            y[t] += w * experts[e](x[t:t + 1])[0]
    return y


def stats(scores, logits, assignments, E, slots):
    """Router statistics (§5.10) over the N tokens of one call; scores are probability rows [N, E]."""
    N = scores.shape[0]
    c = [0] * E
    dropped = 0
    for t, e, w, kept in assignments:
        if kept:
            c[e] += 1
        else:
            dropped += 1
    P = scores.mean(0)
    f = torch.tensor(c, dtype=D) / (slots * N)
    aux = E * float((f * P).sum())
    ent = float((-(scores * torch.where(scores > 0, scores.log(), torch.zeros_like(scores)))).sum(1).mean())
    mean_c = sum(c) / E
    cv = 0.0 if mean_c == 0 else math.sqrt(sum((ci - mean_c) ** 2 for ci in c) / E) / mean_c
    out = {"counts": c, "mean_prob": P.tolist(), "entropy": ent, "aux": aux, "hf_aux": slots * aux,
           "max_violation": 0.0 if mean_c == 0 else max(c) / mean_c - 1, "cv": cv, "dropped": dropped,
           "slots": slots}
    if logits is not None:
        out["z_loss"] = float((torch.logsumexp(logits, 1) ** 2).mean())
        pbar = torch.softmax(logits, 1).mean(0)   # sigma-MoE regularizer: entropy of the mean selection softmax
        out["marginal_entropy"] = float(-(pbar * pbar.log()).sum())
    return out


def routing_json(assignments):
    return [[t, e, w, kept] for t, e, w, kept in assignments]


# ---------------------------------------------------------------- routers

def route_topk(z, k, score, norm):
    N, E = z.shape
    s = torch.softmax(z, 1) if score == "softmax" else torch.sigmoid(z)
    a = []
    for t in range(N):
        idx = topk_lower_index(s[t], k)
        tot = sum(float(s[t, i]) for i in idx)
        for r, i in enumerate(idx):
            a.append((t, i, float(s[t, i]) / tot if norm else float(s[t, i]), True))
    probs = s if score == "softmax" else s / s.sum(1, keepdim=True)
    return a, probs


def apply_capacity(a, N, k, E, factor):
    cap = math.ceil(factor * k * N / E)
    ranked = []
    for i, (t, e, w, kept) in enumerate(a):
        ranked.append((i % k, t, i))  # token-major storage: rank = position within the token
    used = [0] * E
    out = list(a)
    for r, t, i in sorted(ranked):
        t_, e, w, kept = a[i]
        if used[e] >= cap:
            out[i] = (t_, e, w, False)
        used[e] += 1
    return out, cap


def route_expert_choice(z, factor):
    N, E = z.shape
    S = torch.softmax(z, 1)
    c = min(N, math.ceil(N * factor / E))
    a = []
    for e in range(E):
        for t in topk_lower_index(S[:, e], c):
            a.append((t, e, float(S[t, e]), True))
    return a, S, c


def gru(x, h, Wih, Whh, bih, bhh, cell):
    if cell == "rnn":
        H = h.shape[1]
        return torch.tanh(x @ Wih[2 * H:].T + bih[2 * H:] + h @ Whh[2 * H:].T + bhh[2 * H:])
    gi, gh = x @ Wih.T + bih, h @ Whh.T + bhh
    H = h.shape[1]
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    zg = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - zg) * n + zg * h


# ---------------------------------------------------------------- cases

def case_topk(name, seed, score, E, k, norm, capacity=None, sigma=False, passthrough=False):
    W = Weights(seed)
    d, f, N = 8, 6, 9
    router = W.rand("router", E, d)
    experts = relu_experts(W, E, d, f) if sigma else swiglu_experts(W, E, d, f)
    x = W.rand(None, N, d, scale=1.0)
    sel = x
    c = {"name": name, "router": "topk", "score": score, "experts": E, "top_k": k, "norm_topk": norm,
         "expert_kind": "relu" if sigma else "swiglu", "x": tj(x.float())}
    if sigma:
        lw, lb = W.rand("ln.w", d, scale=0.2, offset=1.0), W.rand("ln.b", d, scale=0.2)
        sel = layer_norm(x, lw, lb)
    z = sel @ router.T
    a, probs = route_topk(z, k, score, norm)
    if capacity is not None:
        a, cap = apply_capacity(a, N, k, E, capacity)
        c["capacity_factor"] = capacity
        c["capacity"] = cap
        c["drop_policy"] = "hf_switch_passthrough" if passthrough else "zero"
    y = combine(x, a, experts)
    if passthrough:  # HF SwitchTransformers: a dropped token's output is router_prob * u_t
        for t, e, w, kept in a:
            if not kept:
                y[t] += w * x[t]
    c.update({"weights": W.json(), "routing": routing_json(a), "output": tj(y),
              "stats": stats(probs, z, a, E, k)})
    return c


def case_hash(seed):
    W = Weights(seed)
    d, f, E, V, N = 8, 6, 4, 13, 10
    experts = swiglu_experts(W, E, d, f)
    # a balanced random table as the reference builds it: shuffle the ids, deal them round-robin into E bins
    perm = torch.randperm(V, generator=W.g).tolist()
    table = [0] * V
    for i, tok in enumerate(perm):
        table[tok] = i % E
    ids = [3, 7, 3, 12, 0, 15, 7, 1, 9, 3]      # 15 >= V: an id added after training, bin = id mod E
    x = W.rand(None, N, d, scale=1.0)
    a = [(t, table[i] if i < V else i % E, 1.0, True) for t, i in enumerate(ids)]
    onehot = torch.zeros(N, E, dtype=D)
    for t, e, w, kept in a:
        onehot[t, e] = 1
    return {"name": "hash_random_table", "router": "hash", "experts": E, "top_k": 1, "expert_kind": "swiglu",
            "table": table, "ids": ids, "x": tj(x.float()), "weights": W.json(), "routing": routing_json(a),
            "output": tj(combine(x, a, experts)), "stats": stats(onehot, None, a, E, 1)}


def case_expert_choice(seed):
    W = Weights(seed)
    d, f, E, N, factor = 8, 6, 4, 10, 2.0
    router = W.rand("router", E, d)
    experts = swiglu_experts(W, E, d, f)
    x = W.rand(None, N, d, scale=1.0)
    z = x @ router.T
    a, S, cap = route_expert_choice(z, factor)
    return {"name": "expert_choice", "router": "expert_choice", "experts": E, "capacity_factor": factor,
            "per_expert": cap, "expert_kind": "swiglu", "x": tj(x.float()), "weights": W.json(),
            "routing": routing_json(a), "output": tj(combine(x, a, experts)),
            "stats": stats(S, z, a, E, len(a) / N)}


def case_recurrent(seed, cell):
    W = Weights(seed)
    d, f, E, k, H, N, L = 8, 6, 5, 2, 6, 7, 3
    Wih, Whh = W.rand("gru.w_ih", 3 * H, H), W.rand("gru.w_hh", 3 * H, H)
    bih, bhh = W.rand("gru.b_ih", 3 * H, scale=0.3), W.rand("gru.b_hh", 3 * H, scale=0.3)
    h = torch.zeros(N, H, dtype=D)
    layers = []
    for l in range(L):
        W1, W2 = W.rand(f"l{l}.w1", H, d), W.rand(f"l{l}.w2", E, H)
        experts = swiglu_experts(W, E, d, f) if l == 0 else None
        if l > 0:
            experts = []
            for j in range(E):
                g, u, dn = (W.rand(f"l{l}.e{j}.gate", f, d), W.rand(f"l{l}.e{j}.up", f, d),
                            W.rand(f"l{l}.e{j}.down", d, f))
                experts.append(lambda x, g=g, u=u, dn=dn: (torch.nn.functional.silu(x @ g.T) * (x @ u.T)) @ dn.T)
        x = W.rand(None, N, d, scale=1.0)
        h = gru(x @ W1.T, h, Wih, Whh, bih, bhh, cell)
        z = h @ W2.T
        a, probs = route_topk(z, k, "softmax", True)
        layers.append({"x": tj(x.float()), "routing": routing_json(a), "output": tj(combine(x, a, experts)),
                       "stats": stats(probs, z, a, E, k), "state": tj(h)})
    # layer 0's experts are stored as e{j}.*; rename to l0.e{j}.* for a uniform reader
    ws = {("l0." + k_ if k_.startswith("e") else k_): v for k_, v in W.json().items()}
    return {"name": "recurrent_" + cell, "router": "recurrent", "cell": cell, "experts": E, "top_k": k,
            "hidden": H, "layers": layers, "weights": ws}


def base_experts(W, E, d, f, sub):
    ex = []
    for j in range(E):
        ps = []
        for s in range(sub):
            p = f"e{j}.s{s}."
            ps.append((W.rand(p + "ln.w", d, scale=0.2, offset=1.0), W.rand(p + "ln.b", d, scale=0.2),
                       W.rand(p + "ff1.w", f, d), W.rand(p + "ff1.b", f, scale=0.2),
                       W.rand(p + "ff2.w", d, f), W.rand(p + "ff2.b", d, scale=0.2)))

        def run(z, ps=ps):
            for lw, lb, w1, b1, w2, b2 in ps:
                z = z + torch.relu(layer_norm(z, lw, lb) @ w1.T + b1) @ w2.T + b2
            return z
        ex.append(run)
    return ex


def case_base(seed):
    W = Weights(seed)
    d, f, E, N, sub = 8, 6, 3, 6, 2
    cent = W.rand("centroids", E, d)
    experts = base_experts(W, E, d, f, sub)
    x = W.rand(None, N, d, scale=1.0)
    aff = x @ cent.T
    a = []
    for t in range(N):
        e = topk_lower_index(aff[t], 1)[0]
        a.append((t, e, float(torch.sigmoid(aff[t, e])), True))
    y = combine(x, a, experts)
    for t, e, w, kept in a:
        y[t] += (1 - w) * x[t]
    # balanced assignment (training mode): the optimum by brute force over all balanced assignments
    best = -math.inf
    for perm in set(itertools.permutations([e for e in range(E) for _ in range(N // E)])):
        best = max(best, sum(float(aff[t, perm[t]]) for t in range(N)))
    span = float(aff.max() - aff.min())
    return {"name": "base_greedy", "router": "base", "experts": E, "sublayers": sub, "x": tj(x.float()),
            "weights": W.json(), "routing": routing_json(a), "output": tj(y),
            "stats": stats(torch.softmax(aff, 1), aff, a, E, 1), "balanced_optimum": best,
            "auction_epsilon": max(span / 50, 1e-4)}


def case_demix(seed, ensemble):
    g = torch.Generator().manual_seed(seed)
    Dm, T, V = 3, 8, 11
    logp = torch.log_softmax(torch.randn(Dm, T, V, generator=g, dtype=D) * 2, -1).float().to(D)  # as stored
    tokens = torch.randint(0, V, (T,), generator=g).tolist()
    prior = torch.tensor([0.5, 0.3, 0.2], dtype=D) if ensemble == "cached_prior" else torch.full((Dm,), 1 / Dm,
                                                                                                    dtype=D)
    ema = 0.3
    weights, mix = [], []
    p = prior.clone()
    for t in range(T):
        if ensemble == "simple_average" or t == 0:
            w = p.clone() if ensemble != "simple_average" else torch.full((Dm,), 1 / Dm, dtype=D)
        else:
            lik = logp[:, t - 1, tokens[t - 1]].exp()
            w = p * lik / (p * lik).sum()
        weights.append(w.tolist())
        mix.append(float(torch.log((w * logp[:, t, tokens[t]].exp()).sum())))
        if ensemble == "updating_prior" and t > 0:
            p = (1 - ema) * p + ema * w
    return {"name": "demix_" + ensemble, "router": "demix", "ensemble": ensemble, "ema": ema,
            "prior": prior.tolist(), "log_probs": tj(logp.float()), "tokens": tokens, "posterior": weights,
            "mixture_log_prob": mix}


def main():
    cases = [
        case_topk("topk_softmax_renorm", 11, "softmax", 6, 2, True),
        case_topk("topk_softmax_plain", 12, "softmax", 6, 3, False),
        case_topk("sigma_moe", 13, "sigmoid", 8, 3, False, sigma=True),
        case_topk("capacity_top2", 14, "softmax", 4, 2, True, capacity=0.75),
        case_topk("switch_top1_passthrough", 24, "softmax", 4, 1, False, capacity=0.5, passthrough=True),
        case_hash(15),
        case_expert_choice(16),
        case_recurrent(17, "gru"),
        case_recurrent(18, "rnn"),
        case_base(19),
        case_demix(20, "uniform_prior"),
        case_demix(21, "cached_prior"),
        case_demix(22, "updating_prior"),
        case_demix(23, "simple_average"),
    ]
    write("moe_routers.json", "reference/moe/moe_routers.py", cases)


def write(name, generator, cases):
    """Writes OUT/name: {"generator", "cases"} as compact JSON (moeut.py writes its fixture with this too)."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as fh:
        json.dump({"generator": generator, "cases": cases}, fh, separators=(",", ":"))
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
