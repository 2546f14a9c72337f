"""AWQ (QUANTIZATION.md §6.1) from the equations in PyTorch float64, with losses computed directly on the
calibration rows X (the Java code uses the equivalent Hessian form tr(ΔW·H·ΔWᵀ), H = 2XᵀX/N).
"""
import torch

import grid

D = torch.float64


def f32(t):
    return t.to(torch.float32).to(D)


def scales(mean_abs, alpha):
    s = torch.clamp(mean_abs.pow(alpha), min=1e-4)
    return s / torch.sqrt(s.max() * s.min())


def awq(ws, x, kind, bits, group, n_grid=20, clip=True, clip_grid=20, clip_max_shrink=0.5, mean_abs=None):
    """ws: list of float64 W [rows, d] (float32 values); x: float64 [N, d] calibration rows (padding removed);
    mean_abs: the statistic s_x [d] (default: mean |x| per channel; tied_mean_abs for a fold into v under GQA).
    Returns (s, alpha, loss, [(codes, S, Z) per linear])."""
    if mean_abs is None:
        mean_abs = x.abs().mean(0)
    best, best_alpha, best_s = float("inf"), 0.0, None
    total_rows = sum(w.shape[0] for w in ws)
    for i in range(n_grid):
        alpha = i / n_grid
        s = scales(mean_abs, alpha)
        loss = 0.0
        for w in ws:
            ws_ = f32(w * s)
            q, S, Z = grid.rtn(ws_, kind, bits, group, (1, 0.0, 2.0))
            g = w.shape[1] if group == 0 else group
            deq = torch.repeat_interleave(S, g, dim=1)[:, :w.shape[1]] * (q - torch.repeat_interleave(Z, g, dim=1)[:, :w.shape[1]])
            loss += float(((x @ w.T - x @ (deq / s).T) ** 2).sum())
        loss /= x.shape[0] * total_rows
        if loss < best:
            best, best_alpha, best_s = loss, alpha, s
    xs = x / best_s
    out = []
    for w in ws:
        ws_ = f32(w * best_s)
        if clip:
            ws_ = clip_weights(ws_, xs, kind, bits, group, clip_grid, clip_max_shrink)
        out.append(grid.rtn(ws_, kind, bits, group, (1, 0.0, 2.0)))
    return best_s, best_alpha, best, out


def tied_mean_abs(mean_abs, heads, kv_heads, head_dim):
    """o's input channel (h, d) reads v's row (h // (heads // kv_heads), d): a scale folded into that v row is
    shared by the query heads of one kv head, so their statistic is pooled (mean over those heads)."""
    g = heads // kv_heads
    m = mean_abs.view(kv_heads, g, head_dim).mean(1, keepdim=True)
    return m.expand(kv_heads, g, head_dim).reshape(-1)


def clip_weights(w, x, kind, bits, group, clip_grid, max_shrink):
    rows, cols = w.shape
    g = cols if group == 0 or group > cols else group
    steps = int(round(max_shrink * clip_grid))
    w = w.clone()
    for r in range(rows):
        for c0 in range(0, cols, g):
            sl = slice(c0, min(cols, c0 + g))
            v = w[r, sl].clone()
            amax = float(v.abs().max())
            best, best_m = float("inf"), amax
            for i in range(steps):
                m = float(torch.tensor(amax * (1 - i / clip_grid), dtype=D).to(torch.float32))
                cl = torch.clamp(v, -m, m)
                s, z = grid.fit(kind, bits, cl, 1.0)
                dq = grid.values(grid.codes(kind, bits, cl, s, z), s, z)
                err = float(((x[:, sl] @ (dq - v)) ** 2).sum())
                if err < best:
                    best, best_m = err, m
            w[r, sl] = f32(torch.clamp(v, -best_m, best_m))
    return w
