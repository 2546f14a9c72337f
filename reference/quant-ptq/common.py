"""Shared helpers of the quant-ptq fixture generators: seeded inputs and JSON writing."""
import json
import os

import torch

D = torch.float64
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "quant", "src", "test", "resources", "golden")


def weights(gen, rows, cols, outliers=True):
    """float32 weights (stored exactly in the JSON), Gaussian with a few large outliers."""
    w = torch.randn(rows, cols, generator=gen, dtype=torch.float32) * 0.05
    if outliers:
        idx = torch.randint(0, rows * cols, (max(1, rows * cols // 50),), generator=gen)
        w.view(-1)[idx] *= 6
    return w


def activations(gen, n, d):
    """float32 correlated activations X [n, d]: Gaussian mixed by a random matrix, plus per-channel scales."""
    z = torch.randn(n, d, generator=gen, dtype=torch.float32)
    mix = torch.randn(d, d, generator=gen, dtype=torch.float32) / d ** 0.5 + torch.eye(d)
    scale = torch.exp(torch.randn(d, generator=gen, dtype=torch.float32))
    return ((z @ mix) * scale).to(torch.float32)


def flat(t):
    return [float(x) for x in t.flatten().tolist()]


def ints(t):
    return [int(x) for x in t.flatten().tolist()]


def f32(t):
    """float32 values written with enough digits to round-trip."""
    return [float("%.9g" % x) for x in t.flatten().tolist()]


def write(name, generator, seed, cases, atol=0.0, rtol=0.0):
    os.makedirs(OUT, exist_ok=True)
    doc = {"format": "interlayer-quant-golden", "version": 1, "generator": generator, "seed": seed,
           "atol": atol, "rtol": rtol, "cases": cases}
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print("wrote", path, os.path.getsize(path), "bytes")


def quantized(out):
    """The fixture form of quantized linears [(codes, scales, zeros), ...]."""
    return [{"codes": ints(q), "scales": flat(S), "zeros": ints(Z)} for q, S, Z in out]
