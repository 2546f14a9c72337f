#!/usr/bin/python3
"""Calibration statistics fixtures: H = 2XᵀX/N over unmasked rows (QUANTIZATION.md §0, §2.2), mean |x| and
mean x² per column, and the values llama.cpp's legacy imatrix.dat stores for them:
ncall = ceil(max count / chunk), value = (Σx²/count)·ncall (an expert without rows stores 1·ncall).
Run: /usr/bin/python3 reference/quant-ptq/gen_calib.py  (writes quant/src/test/resources/golden/calib.json)
"""
import math

import torch

import common

SEED = 1304
CHUNK = 8


def main():
    gen = torch.Generator().manual_seed(SEED)
    d = 6
    batches = []
    for n in (7, 13):
        x = common.activations(gen, n, d)
        keep = torch.rand(n, generator=gen) > 0.3
        batches.append((x, keep))
    xs = torch.cat([x[k] for x, k in batches]).to(torch.float64)
    h = 2.0 * xs.T @ xs / xs.shape[0]
    # imatrix entries: "blk.0.attn_q.weight" = all kept rows; "blk.0.ffn_up_exps.weight" = 2 experts + 1 empty
    e0 = xs[0::2]
    e1 = xs[1::2]
    experts = [e0, e1, xs[:0]]
    max_dense = xs.shape[0]
    ncall_dense = math.ceil(max_dense / CHUNK)
    ncall_moe = math.ceil(max(e.shape[0] for e in experts) / CHUNK)

    def vals(e, ncall):
        if e.shape[0] == 0:
            return [float(ncall)] * d
        return [float(v) for v in ((e * e).sum(0) / e.shape[0] * ncall).tolist()]

    moe_vals = []
    for e in experts:
        moe_vals += vals(e, ncall_moe)
    case = {"name": "calib", "d": d, "chunk": CHUNK,
            "batches": [{"n": x.shape[0], "x": common.f32(x), "keep": [bool(k) for k in k.tolist()]} for x, k in batches],
            "count": xs.shape[0], "hessian": common.flat(h), "meanAbs": common.flat(xs.abs().mean(0)),
            "meanSquare": common.flat((xs * xs).mean(0)),
            "imatrix": {"entries": [
                {"name": "blk.0.attn_q.weight", "ncall": ncall_dense, "values": vals(xs, ncall_dense)},
                {"name": "blk.0.ffn_up_exps.weight", "ncall": ncall_moe, "values": moe_vals}],
                "lastChunk": math.ceil(max_dense / CHUNK), "dataset": "calibration.txt"}}
    common.write("calib.json", "reference/quant-ptq/gen_calib.py", SEED, [case], rtol=1e-12)


if __name__ == "__main__":
    main()
