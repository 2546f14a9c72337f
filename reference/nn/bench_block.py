#!/usr/bin/python3
"""PyTorch peer of bench/.../BlockBench.java: one Llama-style block (PRE RMSNorm, GQA attention with RoPE,
SwiGLU or Mixtral-style MoE with 8 experts / top-2) at hidden 2048, 16 heads, 8 KV heads, FFN 5632.
Times prefill of 128 tokens and decode of one token against a 512-token cache, F32 and BF16 weights
(activations F32: bf16 weights are upcast per matmul, like the Java kernels).

Run: /usr/bin/python3 reference/nn/bench_block.py --threads 2 [--quick]
"""
import argparse
import math
import time

import torch

D, H, HKV, F, E, K = 2048, 16, 8, 5632, 8, 2
DH = D // H


def rms(x, w):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5) * w


def rope(x, pos):  # x [T, h, dh], half-split pairing
    inv = 1.0 / 10000 ** (torch.arange(0, DH, 2, dtype=torch.float32) / DH)
    ang = pos[:, None].float() * inv[None]
    cos, sin = ang.cos()[:, None], ang.sin()[:, None]
    a, b = x[..., : DH // 2], x[..., DH // 2:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)


class Block:
    def __init__(self, dtype, moe):
        g = torch.Generator().manual_seed(0)
        mk = lambda o, i: (torch.rand(o, i, generator=g) * 2 - 1).mul(math.sqrt(3 / i)).to(dtype)
        self.wq, self.wk, self.wv, self.wo = mk(D, D), mk(HKV * DH, D), mk(HKV * DH, D), mk(D, D)
        n_exp = E if moe else 1
        self.experts = [(mk(F, D), mk(F, D), mk(D, F)) for _ in range(n_exp)]
        self.router = mk(E, D).float() if moe else None
        self.n1 = torch.ones(D)
        self.n2 = torch.ones(D)
        self.K = torch.zeros(1024, HKV, DH)
        self.V = torch.zeros(1024, HKV, DH)
        self.len = 0

    @staticmethod
    def lin(x, w):
        return x @ w.float().T if w.dtype != torch.float32 else x @ w.T

    def ffn(self, u, e):
        gw, uw, dw = self.experts[e]
        return self.lin(torch.nn.functional.silu(self.lin(u, gw)) * self.lin(u, uw), dw)

    def forward(self, x):
        T = x.shape[0]
        u = rms(x, self.n1)
        pos = torch.arange(self.len, self.len + T)
        q = rope(self.lin(u, self.wq).view(T, H, DH), pos)
        k = rope(self.lin(u, self.wk).view(T, HKV, DH), pos)
        v = self.lin(u, self.wv).view(T, HKV, DH)
        self.K[self.len:self.len + T], self.V[self.len:self.len + T] = k, v
        S = self.len + T
        Kr = self.K[:S].repeat_interleave(H // HKV, dim=1)
        Vr = self.V[:S].repeat_interleave(H // HKV, dim=1)
        s = torch.einsum("thd,shd->hts", q, Kr) / math.sqrt(DH)
        mask = torch.arange(S)[None, :] > pos[:, None]
        s = s.masked_fill(mask[None], float("-inf"))
        o = torch.einsum("hts,shd->thd", torch.softmax(s, -1), Vr).reshape(T, D)
        h = x + self.lin(o, self.wo)
        u = rms(h, self.n2)
        if self.router is None:
            m = self.ffn(u, 0)
        else:
            p = torch.softmax(u @ self.router.T, -1)
            w, idx = torch.topk(p, K, -1)
            w = w / w.sum(-1, keepdim=True)
            m = torch.zeros_like(u)
            for e in range(E):
                rows, slot = (idx == e).nonzero(as_tuple=True)
                if len(rows):
                    m[rows] += w[rows, slot, None] * self.ffn(u[rows], e)
        return h + m


def bench(fn, reps):
    fn()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="one repetition each (smoke test)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    reps = 1 if a.quick else 10
    with torch.inference_mode():
        for dtype in (torch.float32, torch.bfloat16):
            for moe in (False, True):
                b = Block(dtype, moe)
                xp = torch.randn(128, D)
                xd = torch.randn(1, D)

                def prefill():
                    b.len = 0
                    b.forward(xp)

                def decode():
                    b.len = 512
                    b.forward(xd)

                print("%-5s %-5s threads=%d prefill128 %8.2f ms   decodeAt512 %8.3f ms" % (
                    str(dtype).split(".")[1], "moe" if moe else "dense", a.threads, bench(prefill, reps),
                    bench(decode, reps * 5)))


if __name__ == "__main__":
    main()
