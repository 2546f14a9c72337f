#!/usr/bin/env python3
"""Reference BERT forward for ../shared/models/hf-tiny-random/bert_tiniest, written from the equations
(Devlin et al. 2018; HF BertModel semantics) in plain PyTorch, independent of the Java code.

Reads model.safetensors by hand (8-byte LE header length, JSON header, raw data), runs a padded batch
with an additive attention mask, and writes last_hidden_state rows of the valid tokens plus the mean-pooled,
L2-normalised sentence embeddings to models/src/test/resources/golden/bert/bert_tiniest.json.

Run from the repository root:  /usr/bin/python3 reference/bert/bert_tiniest_reference.py
"""
import json, math, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "..", "shared", "models", "hf-tiny-random", "bert_tiniest")
OUT = os.path.join(ROOT, "models", "src", "test", "resources", "golden", "bert", "bert_tiniest.json")


def load_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    data = buf[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32"
        b, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype="<f4").copy().reshape(e["shape"])).double()
    return out


def main():
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    W = load_safetensors(os.path.join(MODEL, "model.safetensors"))
    H, heads, L, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"], cfg["layer_norm_eps"]
    d = H // heads
    rng = np.random.RandomState(7)
    lengths = [1, 2, 5, 9, 16]
    ids = [[101] + list(rng.randint(1000, 30000, size=n - 2)) + [102] if n >= 2 else [101] for n in lengths]
    B, T = len(ids), max(lengths)
    input_ids = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.double)
    for b, s in enumerate(ids):
        input_ids[b, :len(s)] = torch.tensor(s)
        mask[b, :len(s)] = 1
    p = "bert."
    # Embeddings: word + absolute position + token type 0, then LayerNorm.
    x = W[p + "embeddings.word_embeddings.weight"][input_ids] \
        + W[p + "embeddings.position_embeddings.weight"][:T].unsqueeze(0) \
        + W[p + "embeddings.token_type_embeddings.weight"][0]
    x = F.layer_norm(x, (H,), W[p + "embeddings.LayerNorm.weight"], W[p + "embeddings.LayerNorm.bias"], eps)
    additive = (1.0 - mask)[:, None, None, :] * -1e30          # [B, 1, 1, T]: keys past the length masked out
    for i in range(L):
        q_ = p + f"encoder.layer.{i}."
        lin = lambda t, name: t @ W[q_ + name + ".weight"].T + W[q_ + name + ".bias"]   # nn.Linear, [out, in]
        split = lambda t: t.view(B, T, heads, d).transpose(1, 2)                         # [B, heads, T, d]
        q, k, v = split(lin(x, "attention.self.query")), split(lin(x, "attention.self.key")), split(lin(x, "attention.self.value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, H)
        x = F.layer_norm(x + lin(ctx, "attention.output.dense"), (H,),
                         W[q_ + "attention.output.LayerNorm.weight"], W[q_ + "attention.output.LayerNorm.bias"], eps)
        h = F.gelu(lin(x, "intermediate.dense"))                   # exact erf GELU
        x = F.layer_norm(x + lin(h, "output.dense"), (H,),
                         W[q_ + "output.LayerNorm.weight"], W[q_ + "output.LayerNorm.bias"], eps)
    pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    emb = F.normalize(pooled, p=2, dim=1, eps=1e-12)
    result = {
        "source": "reference/bert/bert_tiniest_reference.py (PyTorch %s, float64)" % torch.__version__,
        "model": "hf-tiny-random/bert_tiniest",
        "ids": [[int(t) for t in s] for s in ids],
        "last_hidden_state": [x[b, :len(s)].tolist() for b, s in enumerate(ids)],
        "mean_pooled_normalized": emb.tolist(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
