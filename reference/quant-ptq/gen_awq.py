#!/usr/bin/python3
"""AWQ golden fixtures: two or three linears sharing one input X (float32, stored; a few padding rows that
must be excluded), quantized by reference/quant-ptq/awq.py (float64, losses on X directly).
Run: /usr/bin/python3 reference/quant-ptq/gen_awq.py  (writes quant/src/test/resources/golden/awq.json)
"""
import torch

import awq
import common

SEED = 1303


def main():
    gen = torch.Generator().manual_seed(SEED)
    cases = []
    configs = [("ASYM_MINMAX", 4, 16, True, [8, 12]), ("ASYM_MINMAX", 3, 0, False, [6]),
               ("SYM", 4, 8, True, [5, 5, 7]), ("ASYM_ZERO", 2, 16, True, [9])]
    for kind, bits, group, clip, rows in configs:
        d = 32
        n = 60
        x = torch.round(common.activations(gen, n, d) * 64) / 64
        keep = torch.ones(n, dtype=torch.bool)
        keep[torch.randperm(n, generator=gen)[:4]] = False
        x[~keep] *= 30
        ws = [common.weights(gen, r, d) for r in rows]
        s, alpha, loss, out = awq.awq([w.to(torch.float64) for w in ws], x[keep].to(torch.float64), kind, bits,
                                      group, clip=clip)
        cases.append({"name": f"{kind}_b{bits}_g{group}_clip{int(clip)}_{len(rows)}linears", "kind": kind,
                      "bits": bits, "group": group, "clip": [1, 0.0, 2.0], "awqClip": clip, "rows": rows, "cols": d,
                      "n": n, "x": common.f32(x), "keep": [bool(k) for k in keep.tolist()],
                      "w": [common.f32(w) for w in ws], "alpha": alpha, "loss": loss, "scales_in": common.flat(s),
                      "out": common.quantized(out)})
    common.write("awq.json", "reference/quant-ptq/gen_awq.py", SEED, cases, rtol=1e-9)


if __name__ == "__main__":
    main()
