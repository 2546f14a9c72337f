#!/usr/bin/python3
"""AWQ with llm-awq's block objective (auto_scale.py): the q/k/v scale scored on the output of the whole
attention block (causal softmax attention, grouped-query heads, then the float o projection), the gate/up scale on
the output of the whole MLP (silu(gate)·up, then the float down projection), instead of each linear's own output.
Float64; the search and clipping otherwise as awq.py. The fixture fixes the block forward without RoPE and without
the norm (the site's input X is the normed rows; the scale folds into the norm, which the search leaves alone), so
the Java test can run the same block with plain loops: what it checks is the grid search on a block objective and
Awq.outputError, not the engine's attention (tested elsewhere).
Run: /usr/bin/python3 reference/quant-ptq/gen_awq_block.py  (writes quant/src/test/resources/golden/awq_block.json)
"""
import torch

import awq
import common
import grid

SEED = 1313
D = torch.float64


def attention(x, wq, wk, wv, heads, kv_heads):
    n = x.shape[0]
    hd = wq.shape[0] // heads
    q = (x @ wq.T).view(n, heads, hd)
    k = (x @ wk.T).view(n, kv_heads, hd)
    v = (x @ wv.T).view(n, kv_heads, hd)
    g = heads // kv_heads
    k = k.repeat_interleave(g, dim=1)
    v = v.repeat_interleave(g, dim=1)
    sc = torch.einsum("thd,shd->hts", q, k) / hd ** 0.5
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
    sc = sc.masked_fill(mask, float("-inf"))
    p = torch.softmax(sc, dim=-1)
    return torch.einsum("hts,shd->thd", p, v).reshape(n, heads * hd)


def mlp(x, wg, wu):
    return torch.nn.functional.silu(x @ wg.T) * (x @ wu.T)


def deq(w, s, kind, bits, group):
    q, S, Z = grid.rtn(awq.f32(w * s), kind, bits, group, (1, 0.0, 2.0))
    g = w.shape[1] if group == 0 else group
    d = torch.repeat_interleave(S, g, dim=1)[:, :w.shape[1]] * (q - torch.repeat_interleave(Z, g, dim=1)[:, :w.shape[1]])
    return awq.f32(d / s)        # the engine runs float32 weights


def search(ws, x, inner, w_next, kind, bits, group, n_grid=20):
    mean_abs = x.abs().mean(0)
    ref = inner(x, *ws) @ w_next.T
    best, best_alpha, best_s = float("inf"), 0.0, None
    for i in range(n_grid):
        alpha = i / n_grid
        s = awq.scales(mean_abs, alpha)
        out = inner(x, *[deq(w, s, kind, bits, group) for w in ws]) @ w_next.T
        loss = float(((out - ref) ** 2).sum()) / (out.shape[0] * out.shape[1])
        if loss < best:
            best, best_alpha, best_s = loss, alpha, s
    xs = x / best_s
    out = [grid.rtn(awq.clip_weights(awq.f32(w * best_s), xs, kind, bits, group, 20, 0.5), kind, bits, group,
                    (1, 0.0, 2.0)) for w in ws]
    return best_s, best_alpha, best, out


def main():
    gen = torch.Generator().manual_seed(SEED)
    cases = []
    d, n, heads, kv_heads, hidden = 32, 40, 4, 2, 48
    for kind, bits, group in [("ASYM_MINMAX", 4, 16), ("SYM", 3, 8)]:
        x = torch.round(common.activations(gen, n, d) * 64) / 64
        for site in ["attn", "mlp"]:
            if site == "attn":
                rows = [d, d // heads * kv_heads, d // heads * kv_heads]
                ws = [common.weights(gen, r, d) for r in rows]
                w_next = common.weights(gen, d, d)
                inner = lambda x_, wq, wk, wv: attention(x_, wq, wk, wv, heads, kv_heads)
            else:
                rows = [hidden, hidden]
                ws = [common.weights(gen, r, d) * 4 for r in rows]
                w_next = common.weights(gen, d, hidden)
                inner = mlp
            s, alpha, loss, out = search([w.to(D) for w in ws], x.to(D), inner, w_next.to(D), kind, bits, group)
            cases.append({"name": f"{site}_{kind}_b{bits}_g{group}", "site": site, "kind": kind, "bits": bits,
                          "group": group, "clip": [1, 0.0, 2.0], "rows": rows, "cols": d, "n": n, "heads": heads,
                          "kvHeads": kv_heads, "x": common.f32(x), "w": [common.f32(w) for w in ws],
                          "wNext": common.f32(w_next), "rowsNext": w_next.shape[0], "alpha": alpha, "loss": loss,
                          "scales_in": common.flat(s),
                          "out": common.quantized(out)})
    common.write("awq_block.json", "reference/quant-ptq/gen_awq_block.py", SEED, cases, rtol=1e-6)


if __name__ == "__main__":
    main()
