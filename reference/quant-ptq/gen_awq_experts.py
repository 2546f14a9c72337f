#!/usr/bin/python3
"""AWQ's joint input scale of a mixture-of-experts layer (QUANTIZATION.md §6.1, as llm-awq scales Mixtral's FFN
input for the router and every expert): one scale s of the shared input for the gate and up of every expert, each
expert scored on its own routed rows X_e only (and a shared expert, if any, on all rows). Loss of a candidate:
sum over linears of ||X_l W_lᵀ − X_l Ŵ_lᵀ||² / sum over linears of (n_l · rows_l), Ŵ = rtn(W·diag(s))·diag(s)⁻¹,
no clipping; s = awq.scales(mean |x| over all routed rows, α), α on the grid of 20. Computed in float64 on the rows
directly (the Java code uses the Hessian form n_l·tr(ΔW·H_l·ΔWᵀ)/2 with H_l = 2X_lᵀX_l/n_l).
Run: /tmp/h8venv/bin/python reference/quant-ptq/gen_awq_experts.py  (any Python with torch; writes
quant/src/test/resources/golden/awq_experts.json)
"""
import torch

import awq
import common
import grid

SEED = 1307


def deq(q, S, Z, g, cols):
    return torch.repeat_interleave(S, g, dim=1)[:, :cols] * (q - torch.repeat_interleave(Z, g, dim=1)[:, :cols])


def search(ws, xs, mean_abs, kind, bits, group, n_grid=20):
    """ws[l]: float64 W [rows, d] (float32 values); xs[l]: float64 rows X_l [n_l, d] that linear l reads."""
    norm = sum(x.shape[0] * w.shape[0] for w, x in zip(ws, xs))
    best, best_alpha, best_s, loss_one, best_out = float("inf"), 0.0, None, None, None
    for i in range(n_grid):
        alpha = i / n_grid
        s = awq.scales(mean_abs, alpha)
        loss, out = 0.0, []
        for w, x in zip(ws, xs):
            q, S, Z = grid.rtn(awq.f32(w * s), kind, bits, group, (1, 0.0, 2.0))
            g = w.shape[1] if group == 0 else group
            out.append((q, S, Z))
            loss += float(((x @ w.T - x @ (deq(q, S, Z, g, w.shape[1]) / s).T) ** 2).sum())
        loss /= norm
        if i == 0:
            loss_one = loss
        if loss < best:
            best, best_alpha, best_s, best_out = loss, alpha, s, out
    return best_s, best_alpha, best, loss_one, best_out


def main():
    gen = torch.Generator().manual_seed(SEED)
    cases = []
    # (grid kind, bits, group, rows of gate/up per expert, routed rows per expert, shared expert rows or 0)
    configs = [("ASYM_MINMAX", 4, 16, 8, [40, 17, 23], 0), ("ASYM_MINMAX", 3, 16, 6, [30, 0, 12, 18], 10),
               ("SYM", 4, 8, 5, [25, 25], 0)]
    for kind, bits, group, rows, routed, shared in configs:
        d = 32
        tokens = sum(routed) // 2 + 1
        x = torch.round(common.activations(gen, tokens, d) * 64) / 64
        xs_e, ws, xs = [], [], []
        for n in routed:      # each expert's routed rows: a subset of the tokens
            idx = torch.randperm(tokens, generator=gen)[:n]
            xs_e.append(x[idx])
        for xe in xs_e:
            if xe.shape[0] == 0:
                continue      # an expert without tokens is not in the objective
            for _ in range(2):
                ws.append(common.weights(gen, rows, d))
                xs.append(xe)
        if shared:
            for _ in range(2):
                ws.append(common.weights(gen, shared, d))
                xs.append(x)
        allr = torch.cat(xs_e)
        mean_abs = allr.to(torch.float64).abs().mean(0)
        s, alpha, loss, loss_one, out = search([w.to(torch.float64) for w in ws], [v.to(torch.float64) for v in xs],
                                               mean_abs, kind, bits, group)
        cases.append({"name": f"{kind}_b{bits}_g{group}_{len(routed)}experts_shared{shared}", "kind": kind,
                      "bits": bits, "group": group, "clip": [1, 0.0, 2.0], "rows": rows, "cols": d,
                      "sharedRows": shared, "n": tokens, "x": common.f32(x),
                      "routed": [common.f32(v) for v in xs_e], "routedRows": routed,
                      "w": [common.f32(w) for w in ws], "alpha": alpha, "loss": loss, "lossAtOne": loss_one,
                      "scales_in": common.flat(s),
                      "out": common.quantized(out)})
    common.write("awq_experts.json", "reference/quant-ptq/gen_awq_experts.py", SEED, cases, rtol=1e-9)


if __name__ == "__main__":
    main()
