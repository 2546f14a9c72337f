#!/usr/bin/python3
"""PyTorch peer of bench/.../BlockBench.java: one Llama-style block (PRE RMSNorm, GQA attention with RoPE,
SwiGLU or Mixtral-style MoE with 8 experts / top-2) at hidden 2048, 16 heads, 8 KV heads, FFN 5632.
Times prefill of 128 tokens and decode of one token against a 512-token cache that was really prefilled
(rolled back to 512 before each decode step). Residual stream F32; weights:
  f32          F32 weights, F32 matmuls
  bf16         BF16 weights, each matmul in PyTorch's native bf16 kernel (input cast to bf16, output to F32)
  bf16-upcast  BF16 weights upcast to F32 per matmul (the Java kernels' arithmetic, but a copy per call)
Reports min and median of --reps timed prefill calls (decode: 10x as many) after --warmup untimed calls.
Runs with one inter-op thread and --threads intra-op threads (set before any tensor work). Min is the
figure to compare on a shared machine (noise only ever adds time); median shows the spread.

Run (each under ~2 minutes on an idle 2-core machine; one process per thread count, because
torch.set_num_threads is best set once, before the first op):
  /usr/bin/python3 reference/nn/bench_block.py --threads 1 --ffn dense
  /usr/bin/python3 reference/nn/bench_block.py --threads 2 --ffn dense
  /usr/bin/python3 reference/nn/bench_block.py --threads 2 --ffn moe
"""
import argparse
import math
import statistics
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
    def __init__(self, mode, moe):
        dtype = torch.float32 if mode == "f32" else torch.bfloat16
        self.native_bf16 = mode == "bf16"
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

    def lin(self, x, w):
        if w.dtype == torch.float32:
            return x @ w.T
        if self.native_bf16:
            return (x.bfloat16() @ w.T).float()
        return x @ w.float().T

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
        G = H // HKV  # query heads per KV head; head h = kv·G + g uses KV head kv (no K/V copies)
        qg = q.view(T, HKV, G, DH).permute(1, 0, 2, 3).reshape(HKV, T * G, DH)
        s = torch.bmm(qg, self.K[:S].permute(1, 2, 0)) / math.sqrt(DH)  # [HKV, T·G, S]
        mask = (torch.arange(S)[None, :] > pos[:, None])[:, None, :].expand(T, G, S).reshape(T * G, S)
        s = s.masked_fill(mask[None], float("-inf"))
        o = torch.bmm(torch.softmax(s, -1), self.V[:S].permute(1, 0, 2))  # [HKV, T·G, DH]
        o = o.view(HKV, T, G, DH).permute(1, 0, 2, 3).reshape(T, D)
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


def bench(fn, reps, warmup):
    """(min, median) in ms of reps timed calls after warmup untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return min(times), statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ffn", choices=["dense", "moe"], nargs="+", default=["dense", "moe"])
    ap.add_argument("--dtype", choices=["f32", "bf16", "bf16-upcast"], nargs="+", default=["f32", "bf16"])
    ap.add_argument("--reps", type=int, default=20, help="timed prefill calls (decode: 10x as many)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    a = ap.parse_args()
    torch.set_num_interop_threads(1)  # must precede any parallel work; the block has no inter-op parallelism
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with torch.inference_mode():
        for mode in a.dtype:
            for ffn in a.ffn:
                b = Block(mode, ffn == "moe")
                xp = torch.randn(128, D)
                xd = torch.randn(1, D)
                b.len = 0
                for _ in range(4):  # a real 512-token prefill for decode to attend over
                    b.forward(torch.randn(128, D))
                    b.len += 128

                def prefill():
                    b.len = 0
                    b.forward(xp)

                def decode():
                    b.len = 512  # roll back to the 512 prefilled positions
                    b.forward(xd)

                dec = bench(decode, a.reps * 10, a.warmup * 10)
                pre = bench(prefill, a.reps, a.warmup)
                print("%-11s %-5s threads=%d prefill128 min %8.2f med %8.2f ms   decodeAt512 min %7.3f med %7.3f ms"
                      % (mode, ffn, a.threads, pre[0], pre[1], dec[0], dec[1]), flush=True)


if __name__ == "__main__":
    main()
