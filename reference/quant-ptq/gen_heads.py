#!/usr/bin/python3
"""Per-head attention statistics fixtures (QUANTIZATION.md §3.2, §4.2): C_h = (2/N)·Σ v vᵀ of rotated
vectors and the weight-space row factor mean_t R_tᵀ·C_h·R_t, with R_t built by applying the HF rotary
functions (rotate_half, or GPT-J's rotate_every_two; partial rotary) to the identity's columns.
Run: /usr/bin/python3 reference/quant-ptq/gen_heads.py  (writes quant/src/test/resources/golden/heads.json)
"""
import torch

import common

SEED = 1306
D = torch.float64


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def rotate_every_two(x):
    x1, x2 = x[..., ::2], x[..., 1::2]
    return torch.stack([-x2, x1], dim=-1).flatten(-2)


def rope(x, p, inv_freq, interleaved):
    rd = 2 * inv_freq.numel()
    ang = p * inv_freq
    if interleaved:
        cos, sin = ang.cos().repeat_interleave(2), ang.sin().repeat_interleave(2)
        xr = x[..., :rd] * cos + rotate_every_two(x[..., :rd]) * sin
    else:
        cos, sin = torch.cat([ang.cos(), ang.cos()]), torch.cat([ang.sin(), ang.sin()])
        xr = x[..., :rd] * cos + rotate_half(x[..., :rd]) * sin
    return torch.cat([xr, x[..., rd:]], dim=-1)


def rot_matrix(hd, p, inv_freq, interleaved):
    eye = torch.eye(hd, dtype=D)
    return torch.stack([rope(eye[:, j], p, inv_freq, interleaved) for j in range(hd)], dim=1)   # column j = R e_j


def main():
    gen = torch.Generator().manual_seed(SEED)
    cases = []
    for heads, hd, rot_dim, interleaved in [(2, 6, 6, False), (3, 8, 4, True), (1, 8, 4, False)]:
        n = 23
        v = torch.randn(n, heads * hd, generator=gen, dtype=torch.float32)
        pos = torch.randint(0, 9, (n,), generator=gen)
        keep = torch.rand(n, generator=gen) > 0.2
        inv_freq = 1.0 / (10000.0 ** (torch.arange(0, rot_dim, 2, dtype=D) / rot_dim))
        vk = v[keep].to(D)
        pk = pos[keep]
        cov, ws = [], []
        for h in range(heads):
            x = vk[:, h * hd:(h + 1) * hd]
            c = 2.0 * x.T @ x / x.shape[0]
            g = torch.zeros(hd, hd, dtype=D)
            for p in pk.tolist():
                r = rot_matrix(hd, p, inv_freq, interleaved)
                g += r.T @ c @ r / pk.numel()
            cov.append(common.flat(c))
            ws.append(common.flat(g))
        cases.append({"name": f"h{heads}x{hd}_rot{rot_dim}_inter{int(interleaved)}", "heads": heads, "headDim": hd,
                      "interleaved": interleaved, "invFreq": common.flat(inv_freq), "n": n, "v": common.f32(v),
                      "pos": common.ints(pos), "keep": [bool(k) for k in keep.tolist()], "covariance": cov,
                      "weightSpace": ws})
    common.write("heads.json", "reference/quant-ptq/gen_heads.py", SEED, cases, rtol=1e-12)


if __name__ == "__main__":
    main()
