#!/usr/bin/python3
"""aespa rounding fixtures (QUANTIZATION.md §3.3 step 3): GPTQ init (reference/quant-ptq/gptq.py) then AdaRound
on tr(G·E·H·Eᵀ) per head with torch autograd and torch.optim.Adam in float64 (the Java code uses a
hand-derived gradient and its own Adam). Few iterations keep the fixture fast; the schedule is the same.
Run: /usr/bin/python3 reference/quant-ptq/gen_aespa.py  (writes quant/src/test/resources/golden/aespa.json)
"""
import torch

import common
import gptq

SEED = 1307
D = torch.float64


def adaround(w, wu, S, Z, bits, heads, hd, h, gs, iters, lr, lam, warmup, b_start, b_end):
    rows, cols = w.shape
    maxq = 2 ** bits - 1
    out = torch.zeros(rows, cols, dtype=D)
    start = int(warmup * iters)
    for head in range(heads):
        sl = slice(head * hd, (head + 1) * hd)
        s, z = S[sl, 0:1], Z[sl, 0:1]
        x = wu[sl] / s
        base = torch.floor(x)
        p = (x - base + 0.1) / 1.2
        V = torch.log(p / (1 - p)).clone().requires_grad_(True)
        G = gs[head] if gs is not None else torch.eye(hd, dtype=D)
        opt = torch.optim.Adam([V], lr=lr, foreach=False)
        for t in range(1, iters + 1):
            hv = torch.clamp(1.2 * torch.sigmoid(V) - 0.1, 0, 1)
            E = s * (torch.clamp(base + hv + z, 0, maxq) - z) - w[sl]
            loss = torch.trace(G @ E @ h @ E.T)
            if t >= start and lam > 0:
                beta = b_start if t < start else b_end + (b_start - b_end) * max(0.0, 1 - (t - start) / (iters - start))
                loss = loss + lam * (1 - (2 * hv - 1).abs().pow(beta)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        out[sl] = torch.clamp(base + (V.detach() >= 0).to(D) + z, 0, maxq)
    return out


def main():
    gen = torch.Generator().manual_seed(SEED)
    cases = []
    for kind, bits, heads, hd, cols, use_g, iters in [("ASYM_ZERO", 3, 2, 3, 12, True, 300),
                                                      ("SYM", 2, 1, 4, 10, False, 200),
                                                      ("ASYM_ZERO", 2, 2, 2, 16, True, 400)]:
        n = 3 * cols
        x = torch.round(common.activations(gen, n, cols) * 64) / 64
        xd = x.to(D)
        h = 2.0 * xd.T @ xd / n
        w = common.weights(gen, heads * hd, cols)
        gs = None
        if use_g:
            wk = torch.randn(heads * hd, cols, generator=gen, dtype=torch.float32).to(D)
            gs = []
            for head in range(heads):
                k = xd @ wk[head * hd:(head + 1) * hd].T
                gs.append(2.0 * k.T @ k / n)
        clip = (1, 0.0, 2.0)
        Q, S, Z, *_ = gptq.gptq(w.to(D), h, kind, bits, 0, clip)
        codes = adaround(w.to(D), gptq.gptq.updated, S, Z, bits, heads, hd, h, gs, iters, 0.015, 1.5, 0.2, 20, 2)
        case = {"name": f"{kind}_b{bits}_h{heads}x{hd}_G{int(use_g)}", "kind": kind, "bits": bits, "group": 0,
                "clip": list(clip), "heads": heads, "headDim": hd, "cols": cols, "n": n, "iterations": iters,
                "x": common.f32(x), "w": common.f32(w), "codes": common.ints(codes), "gptqCodes": common.ints(Q),
                "scales": common.flat(S), "zeros": common.ints(Z)}
        if gs is not None:
            case["g"] = [common.flat(g) for g in gs]
        cases.append(case)
        print(case["name"], "codes changed by AdaRound:", int((codes != Q).sum()), "of", Q.numel())
    common.write("aespa.json", "reference/quant-ptq/gen_aespa.py", SEED, cases)


if __name__ == "__main__":
    main()
