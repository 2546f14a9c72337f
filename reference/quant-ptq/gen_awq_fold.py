#!/usr/bin/python3
"""AWQ folding fixtures (QUANTIZATION.md §6.1; llm-awq / AutoAWQ fold o_proj's input scale into v_proj's rows and
down_proj's into up_proj's). Each case builds the site's input from a small float64 model so that the fold can be
checked here: (1) the attention output under grouped-query attention: tokens z, value rows V = z·Wvᵀ, causal
softmax weights P per query head, o's input A[:, h] = P_h·V[:, h // group]; the scale search runs on A with the
statistic tied per kv head, and dividing v's rows by the tied scales must give A / s exactly;
(2) the FFN hidden of a gated MLP, h = silu(z·Wgᵀ) ⊙ (z·Wuᵀ), scales folded into up's rows.
Run: /usr/bin/python3 reference/quant-ptq/gen_awq_fold.py  (writes quant/src/test/resources/golden/awq_fold.json)
"""
import torch

import awq
import common

SEED = 1313
D = torch.float64


def attention_output(z, wv, logits, heads, kv_heads, head_dim):
    n = z.shape[0]
    v = z @ wv.T                                                    # [n, kv·hd]
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
    p = torch.softmax(logits.masked_fill(mask, float("-inf")), -1)  # [heads, n, n]
    g = heads // kv_heads
    return torch.cat([p[h] @ v[:, (h // g) * head_dim:(h // g + 1) * head_dim] for h in range(heads)], 1)


def main():
    gen = torch.Generator().manual_seed(SEED)
    cases = []
    for kind, bits, group, clip, heads, kv, hd in [("ASYM_MINMAX", 4, 16, True, 4, 2, 8),
                                                   ("SYM", 4, 8, False, 8, 2, 4),
                                                   ("ASYM_MINMAX", 3, 32, True, 4, 4, 8)]:
        dm, n, rows = 24, 40, 20
        z = common.activations(gen, n, dm).to(D)
        wv = common.weights(gen, kv * hd, dm).to(D)
        logits = torch.randn(heads, n, n, generator=gen, dtype=D)
        a = common.f32(attention_output(z, wv, logits, heads, kv, hd))
        a = torch.tensor(a, dtype=torch.float32).view(n, heads * hd)
        x = a.to(D)
        wo = common.weights(gen, rows, heads * hd)
        tied = awq.tied_mean_abs(x.abs().mean(0), heads, kv, hd)
        s, alpha, loss, out = awq.awq([wo.to(D)], x, kind, bits, group, clip=clip, mean_abs=tied)
        g = heads // kv
        v_div = s.view(kv, g, hd)[:, 0, :].reshape(-1)
        assert torch.equal(s.view(kv, g, hd), v_div.view(kv, 1, hd).expand(kv, g, hd)), "scales tied per kv head"
        folded = attention_output(z, wv / v_div[:, None], logits, heads, kv, hd)
        exact = attention_output(z, wv, logits, heads, kv, hd)
        assert (folded - exact / s).abs().max() < 1e-12 * exact.abs().max(), "fold into v is exact"
        assert ((folded @ (wo.to(D) * s).T) - exact @ wo.to(D).T).abs().max() < 1e-12 * exact.abs().max() * 10
        cases.append({"name": f"attn_output_{kind}_b{bits}_g{group}_h{heads}_kv{kv}", "site": "attn_output",
                      "kind": kind, "bits": bits, "group": group, "clip": [1, 0.0, 2.0], "awqClip": clip,
                      "heads": heads, "kvHeads": kv, "headDim": hd, "rows": [rows], "cols": heads * hd, "n": n,
                      "x": common.f32(a), "w": [common.f32(wo)], "alpha": alpha, "loss": loss,
                      "tied_mean_abs": common.flat(tied), "scales_in": common.flat(s),
                      "producer_row_divisors": common.flat(v_div),
                      "out": [{"codes": common.ints(q), "scales": common.flat(S), "zeros": common.ints(Z)}
                              for q, S, Z in out]})
    for kind, bits, group, clip in [("ASYM_MINMAX", 4, 16, True), ("SYM", 4, 16, True)]:
        dm, hid, n = 16, 48, 50
        z = common.activations(gen, n, dm).to(D)
        wg, wu = common.weights(gen, hid, dm).to(D), common.weights(gen, hid, dm).to(D)
        wd = common.weights(gen, dm, hid)
        hidden = torch.nn.functional.silu(z @ wg.T) * (z @ wu.T)
        x = torch.tensor(common.f32(hidden), dtype=torch.float32).view(n, hid).to(D)
        s, alpha, loss, out = awq.awq([wd.to(D)], x, kind, bits, group, clip=clip)
        folded = torch.nn.functional.silu(z @ wg.T) * (z @ (wu / s[:, None]).T)
        assert (folded - hidden / s).abs().max() < 1e-12 * hidden.abs().max(), "fold into up is exact"
        cases.append({"name": f"ffn_down_{kind}_b{bits}_g{group}", "site": "ffn_down", "kind": kind, "bits": bits,
                      "group": group, "clip": [1, 0.0, 2.0], "awqClip": clip, "heads": 1, "kvHeads": 1,
                      "headDim": hid, "rows": [dm], "cols": hid, "n": n, "x": common.f32(x), "w": [common.f32(wd)],
                      "alpha": alpha, "loss": loss, "tied_mean_abs": common.flat(x.abs().mean(0)),
                      "scales_in": common.flat(s), "producer_row_divisors": common.flat(s),
                      "out": [{"codes": common.ints(q), "scales": common.flat(S), "zeros": common.ints(Z)}
                              for q, S, Z in out]})
    for c in cases:
        print(c["name"], "alpha", c["alpha"])
    common.write("awq_fold.json", "reference/quant-ptq/gen_awq_fold.py", SEED, cases, rtol=1e-9)


if __name__ == "__main__":
    main()
