#!/usr/bin/python3
"""BoA golden fixtures, computed the other way round (QUANTIZATION.md §4.4.1): per head, GPTQ on the row-major
flattened head block vec(W_h) with the Kronecker Hessian kron(H_row + λ_r·I, H_col + λ_c·I), unblocked, with
the grid of each weight's own row (per-row grids from the original weights, or static groups). H_col = 2XᵀX/N
from stored float32 rows; H_row = 2E[k kᵀ] of random per-head "keys" K = X·W_kᵀ.
Run: /usr/bin/python3 reference/quant-ptq/gen_boa.py  (writes quant/src/test/resources/golden/boa.json)
"""
import torch

import common
import grid

SEED = 1305
D = torch.float64


def upper_chol_inv(h):
    return torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)


def boa_flat(w, heads, hd, hcol, hrows, kind, bits, group, clip, percdamp=0.01):
    W = w.clone()
    rows, cols = W.shape
    g = cols if group == 0 or group >= cols else group
    ng = (cols + g - 1) // g
    S = torch.zeros(rows, ng, dtype=D)
    Z = torch.zeros(rows, ng, dtype=D)
    if ng <= 1:
        for r in range(rows):
            S[r, 0], Z[r, 0] = grid.search(kind, bits, W[r], clip)
    hc = hcol.clone()
    dead = torch.diag(hc) == 0
    hc[dead, dead] = 1
    W[:, dead] = 0
    if ng > 1:
        for r in range(rows):
            for k in range(ng):
                S[r, k], Z[r, k] = grid.search(kind, bits, W[r, k * g:min(cols, (k + 1) * g)], clip)
    hc = hc + percdamp * torch.mean(torch.diag(hc)) * torch.eye(cols, dtype=D)
    Q = torch.zeros(rows, cols, dtype=D)
    for h in range(heads):
        hr = hrows[h] + percdamp * torch.mean(torch.diag(hrows[h])) * torch.eye(hd, dtype=D)
        U = upper_chol_inv(torch.kron(hr, hc))
        v = W[h * hd:(h + 1) * hd].reshape(-1).clone()
        for i in range(v.numel()):
            r, c = h * hd + i // cols, i % cols
            k = 0 if ng <= 1 else c // g
            q = grid.codes(kind, bits, v[i], S[r, k], Z[r, k])
            e = (v[i] - grid.values(q, S[r, k], Z[r, k])) / U[i, i]
            v[i:] -= e * U[i, i:]
            Q[r, c] = q
    return Q, S, Z


def main():
    gen = torch.Generator().manual_seed(SEED)
    cases = []
    for kind, bits, group, clip, heads, hd, cols in [("ASYM_ZERO", 3, 0, (1, 0.0, 2.0), 2, 4, 16),
                                                     ("SYM", 4, 8, (100, 0.8, 2.4), 3, 3, 16),
                                                     ("ASYM_ZERO", 2, 0, (100, 0.8, 2.4), 1, 5, 12)]:
        n = 3 * cols
        x = torch.round(common.activations(gen, n, cols) * 64) / 64
        x[:, 2] = 0                                              # a dead input column
        xd = x.to(D)
        hcol = 2.0 * xd.T @ xd / n
        w = common.weights(gen, heads * hd, cols)
        wk = torch.randn(heads * hd, cols, generator=gen, dtype=torch.float32)
        hrows = []
        for h in range(heads):
            k = xd @ wk[h * hd:(h + 1) * hd].to(D).T
            hrows.append(2.0 * k.T @ k / n)
        Q, S, Z = boa_flat(w.to(D), heads, hd, hcol, hrows, kind, bits, group, clip)
        cases.append({"name": f"{kind}_b{bits}_g{group}_h{heads}x{hd}", "kind": kind, "bits": bits, "group": group,
                      "clip": list(clip), "heads": heads, "headDim": hd, "cols": cols, "n": n,
                      "x": common.f32(x), "w": common.f32(w), "hRow": [common.flat(h) for h in hrows],
                      "codes": common.ints(Q), "scales": common.flat(S), "zeros": common.ints(Z)})
    common.write("boa.json", "reference/quant-ptq/gen_boa.py", SEED, cases)


if __name__ == "__main__":
    main()
