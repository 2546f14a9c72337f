"""Uniform grids of QUANTIZATION.md §1.2 and the clipping search of §1.4, written from the equations in
PyTorch float64. One slice (a row or a group of consecutive columns) at a time; plain loops, no cleverness.

Rounding is named: rne = torch.round (round half to even). Scales are rounded to float32 (or float16) before
the zero point is derived from them, which is the documented storage convention of the Java quantizers.
"""
import math

import torch

D = torch.float64


def store(s, fmt):
    t = torch.tensor(s, dtype=D)
    return float(t.to(torch.float16 if fmt == "F16" else torch.float32).to(D))


def rne(x):
    return float(torch.round(torch.tensor(x, dtype=D)))


def fit(kind, bits, v, p, fmt="F32", p_hi=None):
    """(scale, zero) of the grid `kind` on the 1-d float64 tensor v with the range shrunk by p; with p_hi the
    asymmetric kinds shrink the low end by p and the high end by p_hi (two-sided search)."""
    p_lo = p
    if p_hi is None:
        p_hi = p
    elif kind.startswith("SYM") and p_hi != p:
        raise ValueError("a symmetric grid has one shrink factor")
    maxq = 2 ** bits - 1
    half = 2 ** (bits - 1)
    mn = float(v.min()) if v.numel() else 0.0
    mx = float(v.max()) if v.numel() else 0.0
    if kind == "ASYM_ZERO":
        lo, hi = min(mn, 0.0), max(mx, 0.0)
        if lo == 0 and hi == 0:
            lo, hi = -1.0, 1.0
        lo, hi = p_lo * lo, p_hi * hi
        s = store((hi - lo) / maxq, fmt)
        return s, rne(-lo / s)
    if kind == "ASYM_MINMAX":
        lo, hi = p_lo * mn, p_hi * mx
        s = store(max(hi - lo, 1e-5) / maxq, fmt)
        return s, min(max(rne(-lo / s), 0.0), float(maxq))
    if kind == "ASYM_OFFSET":
        # GGML Q4_1/Q5_1: value = d·q + m, both d and m in the storage format, m = the (shrunk) low end
        lo, hi = p_lo * mn, p_hi * mx
        return store(max(hi - lo, 1e-5) / maxq, fmt), store(lo, fmt)
    if kind == "SYM":
        a = max(abs(mn), abs(mx))
        if a == 0:
            a = 1.0
        return store(2 * (p * a) / maxq, fmt), float((maxq + 1) // 2)
    if kind == "SYM_SIGNED_MAX":
        i = int(torch.argmax(v.abs())) if v.numel() else 0   # first index of the largest magnitude
        m = float(v[i]) if v.numel() else 0.0
        if m == 0:
            m = -float(half)
        return store(p * m / -half, fmt), float(half)
    if kind == "SYM_RESTRICTED":
        a = max(abs(mn), abs(mx))
        if a == 0:
            a = float(half - 1)
        return store(p * a / (half - 1), fmt), float(half)
    raise ValueError(kind)


def min_code(kind):
    return 1 if kind == "SYM_RESTRICTED" else 0


def codes(kind, bits, v, s, z):
    if kind == "ASYM_OFFSET":
        return torch.clamp(torch.round((v - z) / s), 0, 2 ** bits - 1)
    return torch.clamp(torch.round(v / s) + z, min_code(kind), 2 ** bits - 1)


def values_of(kind, q, s, z):
    """values(q, s, z), and for ASYM_OFFSET d·q + m in float32 as GGML's decoders compute it (each op rounded)."""
    if kind == "ASYM_OFFSET":
        f = torch.float32
        return ((torch.tensor(s, dtype=f) * q.to(f)) + torch.tensor(z, dtype=f)).to(D)
    return values(q, s, z)


def values(q, s, z):
    return s * (q - z)


def search(kind, bits, v, clip, fmt="F32"):
    """§1.4: the candidate p = 1 − i/grid, i < floor(maxShrink·grid), with the smallest Σ|e|^norm."""
    grid, max_shrink, norm = clip
    steps = max(1, int(math.floor(max_shrink * grid)))
    best, best_sz = math.inf, fit(kind, bits, v, 1.0, fmt)
    if steps == 1:
        return best_sz
    for i in range(steps):
        s, z = fit(kind, bits, v, 1.0 - i / grid, fmt)
        e = (values(codes(kind, bits, v, s, z), s, z) - v).abs()
        err = float((e * e).sum()) if norm == 2.0 else float(e.pow(norm).sum())
        if err < best:
            best, best_sz = err, (s, z)
    return best_sz


def lp_error(kind, bits, v, s, z, norm):
    """Σ|value(code(v)) − v|^norm summed left to right (the order of the Java loop, so near ties break alike)."""
    e = (values_of(kind, codes(kind, bits, v, s, z), s, z) - v).abs()
    e = e * e if norm == 2.0 else e.pow(norm)
    total = 0.0
    for x in e.tolist():
        total += x
    return total


MAX_SCANS = 6


def search_two_sided(kind, bits, v, clip, fmt="F32"):
    """Two-sided clipping search. Shrink factors p(i) = 1 − i/grid, i < steps = max(1, floor(maxShrink·grid)).
    Symmetric kinds: the proportional search (their range is set by the larger end). Asymmetric kinds:
      1. proportional: i* = the first i with the smallest E(i, i), E(i, k) = Σ|q(v; lo·p(i), hi·p(k)) − v|^norm;
      2. coordinate descent from (i*, i*): scan t = 0, 1, …, MAX_SCANS − 1 alternates the low factor (t even,
         k fixed) and the high factor (t odd, i fixed) over all steps; a candidate replaces the current pair only
         if its error is strictly smaller than the best so far (in scan order); the search stops after a scan
         t > 0 that did not change its coordinate."""
    grid, max_shrink, norm = clip[:3]
    steps = max(1, int(math.floor(max_shrink * grid)))
    if steps == 1:
        return fit(kind, bits, v, 1.0, fmt)
    p = [1.0 - i / grid for i in range(steps)]
    errs = []
    for i in range(steps):
        s, z = fit(kind, bits, v, p[i], fmt)
        errs.append(lp_error(kind, bits, v, s, z, norm))
    best = min(errs)
    ik = [errs.index(best)] * 2
    if kind.startswith("SYM"):
        return fit(kind, bits, v, p[ik[0]], fmt)
    for t in range(MAX_SCANS):
        end = t % 2
        start = ik[end]
        for j in range(steps):
            cand = list(ik)
            cand[end] = j
            s, z = fit(kind, bits, v, p[cand[0]], fmt, p_hi=p[cand[1]])
            e = lp_error(kind, bits, v, s, z, norm)
            if e < best:
                best, ik = e, cand
        if t > 0 and ik[end] == start:
            break
    return fit(kind, bits, v, p[ik[0]], fmt, p_hi=p[ik[1]])


def rtn(w, kind, bits, group, clip, fmt="F32"):
    """Round-to-nearest of W [rows, cols] (float64) per group of `group` columns (0 = per row)."""
    rows, cols = w.shape
    g = cols if group == 0 or group > cols else group
    ng = (cols + g - 1) // g
    q = torch.zeros(rows, cols, dtype=D)
    S = torch.zeros(rows, ng, dtype=D)
    Z = torch.zeros(rows, ng, dtype=D)
    for r in range(rows):
        for k in range(ng):
            sl = slice(k * g, min(cols, (k + 1) * g))
            two_sided = len(clip) > 3 and clip[3]
            s, z = (search_two_sided if two_sided else search)(kind, bits, w[r, sl], clip, fmt)
            S[r, k], Z[r, k] = s, z
            q[r, sl] = codes(kind, bits, w[r, sl], s, z)
    return q, S, Z
