"""GPTQ (QUANTIZATION.md §2.3–2.5) written from the equations in PyTorch float64: the unblocked column loop
(every update applied immediately), U = upper Cholesky factor of H⁻¹ computed the textbook way
(cholesky -> cholesky_inverse -> cholesky(upper=True)), which the Java code computes differently.
"""
import torch

import grid

D = torch.float64


def gptq(w, h, kind, bits, group, clip, percdamp=0.01, actorder=False, static_groups=False):
    """Returns (codes [rows, cols] in original column order, scales [rows, ng], zeros [rows, ng],
    g_idx or None, row_loss [rows], W0 (dead columns zeroed), H_damped (both in processing order), perm)."""
    W = w.clone().to(D)
    H = h.clone().to(D)
    rows, cols = W.shape
    g = cols if group == 0 or group >= cols else group
    ng = (cols + g - 1) // g
    per_row = ng <= 1
    static = static_groups and not per_row
    S = torch.zeros(rows, ng, dtype=D)
    Z = torch.zeros(rows, ng, dtype=D)
    if per_row:                                   # grid from the original rows
        for r in range(rows):
            S[r, 0], Z[r, 0] = grid.search(kind, bits, W[r], clip)
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    if static:
        for r in range(rows):
            for k in range(ng):
                S[r, k], Z[r, k] = grid.search(kind, bits, W[r, k * g:min(cols, (k + 1) * g)], clip)
    perm = torch.argsort(-torch.diag(H), stable=True) if actorder else torch.arange(cols)
    W = W[:, perm]
    H = H[perm][:, perm]
    damp = percdamp * torch.mean(torch.diag(H))
    H = H + damp * torch.eye(cols, dtype=D)
    U = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    W0 = W.clone()
    Wu = torch.zeros(rows, cols, dtype=D)         # each column's value when it is rounded (aespa's start)
    Q = torch.zeros(rows, cols, dtype=D)
    loss = torch.zeros(rows, dtype=D)
    for c in range(cols):
        if per_row:
            k = 0
        elif static:
            k = int(perm[c]) // g
        else:
            k = c // g
            if c % g == 0:                        # dynamic group: grid of the current, updated weights
                for r in range(rows):
                    S[r, k], Z[r, k] = grid.search(kind, bits, W[r, c:min(cols, c + g)], clip)
        s, z = S[:, k], Z[:, k]
        Wu[:, int(perm[c])] = W[:, c]
        q = grid.codes(kind, bits, W[:, c], s, z)
        e = (W[:, c] - grid.values(q, s, z)) / U[c, c]
        loss += e * e / 2
        W[:, c:] -= torch.outer(e, U[c, c:])
        Q[:, int(perm[c])] = q
    g_idx = None
    if actorder and not per_row and not static:
        g_idx = torch.zeros(cols, dtype=torch.int64)
        g_idx[perm] = torch.arange(cols) // g
    gptq.updated = Wu
    return Q, S, Z, g_idx, loss, W0, H, perm
