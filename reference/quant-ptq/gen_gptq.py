#!/usr/bin/python3
"""GPTQ golden fixtures: fixed small W and calibration X (float32, stored), H = 2XᵀX/N over the rows not
marked as padding, quantized by reference/quant-ptq/gptq.py (float64). Cases cover per-row, dynamic groups,
static groups, act-order, dead input columns, a short last group, and groups that cross a lazy-update
block (the Java test runs those with a block size of 16).
Run: /usr/bin/python3 reference/quant-ptq/gen_gptq.py  (writes quant/src/test/resources/golden/gptq.json)
"""
import torch

import common
import gptq

SEED = 1302


def main():
    gen = torch.Generator().manual_seed(SEED)
    cases = []
    configs = [  # kind, bits, group, clip, actorder, static, rows, cols, dead, java block
        ("ASYM_ZERO", 4, 0, (1, 0.0, 2.0), False, False, 12, 32, False, 128),
        ("ASYM_ZERO", 3, 16, (1, 0.0, 2.0), True, False, 10, 48, False, 128),
        ("SYM", 4, 16, (100, 0.8, 2.4), True, True, 9, 48, True, 128),
        ("SYM_SIGNED_MAX", 4, 32, (100, 0.8, 2.0), False, False, 8, 64, False, 128),
        ("ASYM_MINMAX", 4, 12, (1, 0.0, 2.0), True, False, 7, 40, True, 16),
        ("ASYM_ZERO", 2, 0, (100, 0.8, 2.4), True, False, 11, 36, False, 8),
        ("SYM_RESTRICTED", 8, 24, (1, 0.0, 2.0), False, False, 6, 40, False, 16),
    ]
    for kind, bits, group, clip, act, static, rows, cols, dead, block in configs:
        w = common.weights(gen, rows, cols)
        n = cols + 9
        x = torch.round(common.activations(gen, n, cols) * 64) / 64   # short decimals keep the fixture small
        keep = torch.ones(n, dtype=torch.bool)
        keep[torch.randperm(n, generator=gen)[:5]] = False     # padding rows, excluded from H
        x[~keep] *= 50                                         # they would dominate H if included
        if dead:
            x[:, 3] = 0
            x[:, cols - 2] = 0
        xk = x[keep].to(torch.float64)
        h = 2.0 * xk.T @ xk / xk.shape[0]
        Q, S, Z, g_idx, loss, W0, Hd, perm = gptq.gptq(w.to(torch.float64), h, kind, bits, group, clip,
                                                        actorder=act, static_groups=static)
        case = {"name": f"{kind}_b{bits}_g{group}_act{int(act)}_static{int(static)}_dead{int(dead)}",
                "kind": kind, "bits": bits, "group": group, "clip": list(clip), "actOrder": act,
                "staticGroups": static, "blockSize": block, "rows": rows, "cols": cols, "n": n,
                "w": common.f32(w), "x": common.f32(x), "keep": [bool(k) for k in keep.tolist()],
                "codes": common.ints(Q), "scales": common.flat(S), "zeros": common.ints(Z),
                "rowLoss": common.flat(loss)}
        if g_idx is not None:
            case["groupIndex"] = common.ints(g_idx)
        cases.append(case)
    common.write("gptq.json", "reference/quant-ptq/gen_gptq.py", SEED, cases, rtol=1e-9)


if __name__ == "__main__":
    main()
