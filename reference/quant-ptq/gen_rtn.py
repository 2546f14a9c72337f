#!/usr/bin/python3
"""RTN golden fixtures (QUANTIZATION.md §1.2–1.4): every grid kind, per-row and grouped, with and without the
clipping search. Run: /usr/bin/python3 reference/quant-ptq/gen_rtn.py (writes quant/src/test/resources/golden/rtn.json)
The two-sided clipping search's fixture: /usr/bin/python3 reference/quant-ptq/gen_rtn.py two-sided (writes only
golden/rtn_two_sided.json; its zeros are floats, the offsets m of ASYM_OFFSET)
"""
import sys

import torch

import common
import grid

SEED = 1301


def main():
    gen = torch.Generator().manual_seed(SEED)
    cases = []
    configs = [
        ("ASYM_ZERO", 4, 0, (1, 0.0, 2.0)), ("ASYM_ZERO", 3, 16, (100, 0.8, 2.4)),
        ("ASYM_MINMAX", 4, 16, (1, 0.0, 2.0)), ("ASYM_MINMAX", 2, 0, (100, 0.8, 2.0)),
        ("SYM", 4, 0, (1, 0.0, 2.0)), ("SYM", 4, 32, (100, 0.8, 2.4)),
        ("SYM_SIGNED_MAX", 4, 32, (1, 0.0, 2.0)), ("SYM_SIGNED_MAX", 5, 16, (100, 0.8, 2.0)),
        ("SYM_RESTRICTED", 8, 32, (1, 0.0, 2.0)), ("SYM_RESTRICTED", 8, 0, (100, 0.8, 2.0)),
        ("ASYM_ZERO", 8, 24, (1, 0.0, 2.0)),   # short last group (cols 40 = 24 + 16)
    ]
    for i, (kind, bits, group, clip) in enumerate(configs):
        rows, cols = (6, 40) if group == 24 else (7, 64)
        w = common.weights(gen, rows, cols)
        if i == 0:
            w[1, :] = 0.0                       # an all-zero row exercises the guards
        q, s, z = grid.rtn(w.to(torch.float64), kind, bits, group, clip)
        cases.append({"name": f"{kind}_b{bits}_g{group}_clip{clip[0]}", "kind": kind, "bits": bits,
                      "group": group, "clip": list(clip), "rows": rows, "cols": cols,
                      "w": common.f32(w), "codes": common.ints(q), "scales": common.flat(s),
                      "zeros": common.ints(z)})
    common.write("rtn.json", "reference/quant-ptq/gen_rtn.py", SEED, cases)


SEED_TWO_SIDED = 1302


def two_sided():
    gen = torch.Generator().manual_seed(SEED_TWO_SIDED)
    cases = []
    configs = [
        ("ASYM_OFFSET", 4, 32, (100, 0.8, 2.0, True), "F16"),   # GGML Q4_1
        ("ASYM_OFFSET", 5, 32, (100, 0.8, 2.4, True), "F16"),   # GGML Q5_1, GPTQ's norm
        ("ASYM_ZERO", 3, 16, (100, 0.8, 2.4, True), "F32"),
        ("ASYM_MINMAX", 4, 0, (100, 0.8, 2.0, True), "F32"),
        ("ASYM_OFFSET", 4, 24, (20, 0.5, 2.0, True), "F32"),     # a coarse grid and a short last group
        ("SYM_SIGNED_MAX", 4, 32, (100, 0.8, 2.0, True), "F16"),  # symmetric: the proportional search
    ]
    for i, (kind, bits, group, clip, fmt) in enumerate(configs):
        rows, cols = (6, 40) if group == 24 else (7, 64)
        w = common.weights(gen, rows, cols)
        w[1, :] = 0.0                               # an all-zero row
        w[2, 3] = 40.0 * float(w[2].abs().max())    # one huge value
        w[3, :] = w[3, :].abs()                     # an all-positive row (lo > 0)
        q, s, z = grid.rtn(w.to(torch.float64), kind, bits, group, clip, fmt)
        cases.append({"name": f"{kind}_b{bits}_g{group}_grid{clip[0]}_{fmt}", "kind": kind, "bits": bits,
                      "group": group, "clip": list(clip), "fmt": fmt, "rows": rows, "cols": cols,
                      "w": common.f32(w), "codes": common.ints(q), "scales": common.flat(s),
                      "zeros": common.flat(z)})
    common.write("rtn_two_sided.json", "reference/quant-ptq/gen_rtn.py two-sided", SEED_TWO_SIDED, cases)


if __name__ == "__main__":
    two_sided() if sys.argv[1:] == ["two-sided"] else main()
