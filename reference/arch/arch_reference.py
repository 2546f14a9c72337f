#!/usr/bin/env python3
"""Independent PyTorch reference for the decoder families of dev.interlayer.models (llama, qwen2, gemma2,
gemma3, olmo2, gpt2, mixtral, qwen2moe), written from the equations in docs/ARCHITECTURES.md §0-2 and the HF config
semantics, not from the Java code.

What it does (python3 arch_reference.py REPO_ROOT; with --extras only the F32 models of extra_configs()):
  1. For each family (and "llama3": the llama weights with Llama 3.1 rope_scaling) builds a tiny random-weight model from a fixed seed and writes a Hugging Face
     folder  models/src/test/resources/hf/<name>/{config.json, model.safetensors}  (F32) and
     models/src/test/resources/hf/<name>-bf16/  (same weights rounded to BF16), with our own
     safetensors writer.
  2. Writes the same model as GGUF the way llama.cpp's converter lays it out (own GGUF writer) to
     models/src/test/resources/gguf/<name>.gguf: tensor names per arch, Q/K rows permuted for arch
     "llama" (interleaved RoPE pairs), Gemma norm gains stored as 1 + w, GPT-2 Conv1D weights
     transposed to [out, in] and q/k/v fused as attn_qkv.
  3. Runs the forward pass in float64 and writes golden JSON fixtures
     models/src/test/resources/golden/arch/<name>.json with logits for a 17-token and a 1-token
     input, and the last hidden state (after the final norm, as HF's last_hidden_state) for the
     17-token input. For BF16 the reference runs on the BF16-rounded weights, upcast (HF semantics of
     loading a bf16 checkpoint with torch_dtype=float32).
  4. For the shared HF folder hf-tiny-random/fake_gpt2 (own safetensors parser) and the shared synthetic GGUFs synth-gemma2-f32.gguf and synth-gpt2-f32.gguf: parses the GGUF
     (numpy parser of reference/llama/llama_reference.py), runs the same forward (GGUF conventions)
     and writes golden/arch/synth-gemma2.json, synth-gpt2.json (a stride subset of the logits).

GGUF Gemma stores no query_pre_attn_scalar: llama.cpp uses 1/sqrt(head_dim) for every size but 27B,
so each gemma fixture also carries "gguf_logits" computed with that scale.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "llama"))
from llama_reference import read_gguf  # noqa: E402  (numpy GGUF parser, F32/F16)
sys.path.insert(0, os.path.join(HERE, "..", "nn"))
from golden_nn import llama3_rescale  # noqa: E402  (Llama 3.1 rope frequency rescaling)

SEED = 20250701
VOCAB = 96


# ---------------------------------------------------------------------------------------------------
# Family configs (HF config.json contents)
# ---------------------------------------------------------------------------------------------------

def configs():
    common = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                  torch_dtype="float32")
    llama = dict(common, architectures=["LlamaForCausalLM"], model_type="llama", rms_norm_eps=1e-5,
                 rope_theta=10000.0, hidden_act="silu", tie_word_embeddings=False, attention_bias=False,
                 head_dim=8)
    qwen2 = dict(common, architectures=["Qwen2ForCausalLM"], model_type="qwen2", rms_norm_eps=1e-6,
                 rope_theta=1000000.0, hidden_act="silu", tie_word_embeddings=True, use_sliding_window=False,
                 sliding_window=4, max_window_layers=1)
    gemma2 = dict(common, architectures=["Gemma2ForCausalLM"], model_type="gemma2", num_hidden_layers=3,
                  head_dim=16, rms_norm_eps=1e-6, rope_theta=10000.0, hidden_activation="gelu_pytorch_tanh",
                  query_pre_attn_scalar=24, sliding_window=5, attn_logit_softcapping=3.0,
                  final_logit_softcapping=4.0, tie_word_embeddings=True)
    gemma3 = dict(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=6,
                  num_attention_heads=2, num_key_value_heads=1, head_dim=8, max_position_embeddings=64,
                  torch_dtype="float32", architectures=["Gemma3ForCausalLM"], model_type="gemma3_text",
                  rms_norm_eps=1e-6, rope_theta=1000000.0, rope_local_base_freq=10000.0,
                  rope_scaling={"rope_type": "linear", "factor": 8.0}, hidden_activation="gelu_pytorch_tanh",
                  query_pre_attn_scalar=8, sliding_window=4, sliding_window_pattern=6,
                  layer_types=["sliding_attention"] * 5 + ["full_attention"],
                  attn_logit_softcapping=None, final_logit_softcapping=None, tie_word_embeddings=True)
    olmo2 = dict(common, architectures=["Olmo2ForCausalLM"], model_type="olmo2", num_key_value_heads=4,
                 rms_norm_eps=1e-6, rope_theta=500000.0, hidden_act="silu", tie_word_embeddings=False,
                 attention_bias=False)
    gpt2 = dict(architectures=["GPT2LMHeadModel"], model_type="gpt2", vocab_size=VOCAB, n_embd=32, n_layer=2,
                n_head=4, n_positions=32, n_ctx=32, n_inner=None, activation_function="gelu_new",
                layer_norm_epsilon=1e-5, scale_attn_weights=True, scale_attn_by_inverse_layer_idx=False,
                reorder_and_upcast_attn=False, tie_word_embeddings=True, torch_dtype="float32")
    llama3 = dict(llama, rope_scaling={"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0,
                                       "high_freq_factor": 4.0, "original_max_position_embeddings": 8})
    # MoE: a few small experts, top-2 routing. Mixtral renormalises the top-k probabilities; Qwen2-MoE
    # (norm_topk_prob false) uses them raw and adds a sigmoid-gated shared expert in every layer.
    mixtral = dict(common, architectures=["MixtralForCausalLM"], model_type="mixtral", intermediate_size=24,
                   num_local_experts=4, num_experts_per_tok=2, rms_norm_eps=1e-5, rope_theta=1000000.0,
                   hidden_act="silu", tie_word_embeddings=False, sliding_window=None, router_jitter_noise=0.0)
    qwen2moe = dict(common, architectures=["Qwen2MoeForCausalLM"], model_type="qwen2_moe", intermediate_size=40,
                    moe_intermediate_size=16, shared_expert_intermediate_size=24, num_experts=6,
                    num_experts_per_tok=2, norm_topk_prob=False, decoder_sparse_step=1, mlp_only_layers=[],
                    rms_norm_eps=1e-6, rope_theta=1000000.0, hidden_act="silu", tie_word_embeddings=False,
                    use_sliding_window=False, sliding_window=4, max_window_layers=1)
    return {"llama": llama, "llama3": llama3, "qwen2": qwen2, "gemma2": gemma2, "gemma3": gemma3, "olmo2": olmo2,
            "gpt2": gpt2, "mixtral": mixtral, "qwen2moe": qwen2moe}


def extra_configs():
    """F32-only models for LlamaModel features (written by --extras, leaving the fixtures above untouched).

    qwen2moe-mixed: 4 layers, decoder_sparse_step 2, mlp_only_layers [3] -> layer 1 sparse, 0, 2, 3 dense
    (dense MLP of intermediate_size). mistral-window: every layer attends to the last sliding_window = 5
    positions. qwen2-window: use_sliding_window with max_window_layers 1 -> layer 0 full, layers 1, 2 windowed.
    """
    c = configs()
    mixed = dict(c["qwen2moe"], num_hidden_layers=4, decoder_sparse_step=2, mlp_only_layers=[3])
    mistral = dict(c["llama"], architectures=["MistralForCausalLM"], model_type="mistral", sliding_window=5,
                   rope_theta=10000.0)
    qwin = dict(c["qwen2"], num_hidden_layers=3, use_sliding_window=True, sliding_window=5, max_window_layers=1)
    return {"qwen2moe-mixed": mixed, "mistral-window": mistral, "qwen2-window": qwin}


BASE = {"qwen2moe-mixed": "qwen2moe", "mistral-window": "llama", "qwen2-window": "qwen2", "llama3": "llama"}


def sparse_layer(c, i):
    """Qwen2-MoE: layer i uses the experts iff num_experts > 0, (i + 1) % decoder_sparse_step == 0 and i is not
    in mlp_only_layers (HF Qwen2MoeDecoderLayer); otherwise a dense MLP of intermediate_size."""
    return (c.get("num_experts", 0) > 0 and (i + 1) % c.get("decoder_sparse_step", 1) == 0
            and i not in c.get("mlp_only_layers", []))


def hf_window(c, i):
    """Sliding window of layer i for the Llama-like families (0 = full causal attention), per HF:
    mistral/mixtral: sliding_window on every layer; qwen2/qwen2_moe: only with use_sliding_window, and only on
    layers i >= max_window_layers (or as listed in layer_types). Key j is visible to query i iff i - w < j <= i."""
    w = c.get("sliding_window") or 0
    if c.get("model_type") in ("mistral", "mixtral"):
        return w
    if c.get("model_type") in ("qwen2", "qwen2_moe"):
        if not c.get("use_sliding_window") or not w:
            return 0
        if c.get("layer_types"):
            return w if c["layer_types"][i] == "sliding_attention" else 0
        return w if i >= c.get("max_window_layers", 0) else 0
    return 0


# ---------------------------------------------------------------------------------------------------
# Random weights (HF names and layouts)
# ---------------------------------------------------------------------------------------------------

def make_weights(name, c, g):
    def mat(out, inp, gain=1.0):
        return torch.randn(out, inp, generator=g) * (gain / inp ** 0.5)

    def vec(n, mean=0.0, std=0.1):
        return mean + std * torch.randn(n, generator=g)

    W = {}
    if name == "gpt2":
        d, L, f = c["n_embd"], c["n_layer"], 4 * c["n_embd"]
        W["transformer.wte.weight"] = torch.randn(c["vocab_size"], d, generator=g)
        W["transformer.wpe.weight"] = 0.5 * torch.randn(c["n_positions"], d, generator=g)
        for i in range(L):
            p = "transformer.h.%d." % i
            W[p + "ln_1.weight"], W[p + "ln_1.bias"] = vec(d, 1.0), vec(d)
            W[p + "attn.c_attn.weight"] = mat(3 * d, d, 2.0).T.contiguous()     # Conv1D: [in, out]
            W[p + "attn.c_attn.bias"] = vec(3 * d)
            W[p + "attn.c_proj.weight"] = mat(d, d).T.contiguous()
            W[p + "attn.c_proj.bias"] = vec(d)
            W[p + "ln_2.weight"], W[p + "ln_2.bias"] = vec(d, 1.0), vec(d)
            W[p + "mlp.c_fc.weight"] = mat(f, d).T.contiguous()
            W[p + "mlp.c_fc.bias"] = vec(f)
            W[p + "mlp.c_proj.weight"] = mat(d, f).T.contiguous()
            W[p + "mlp.c_proj.bias"] = vec(d)
        W["transformer.ln_f.weight"], W["transformer.ln_f.bias"] = vec(d, 1.0), vec(d)
        return W
    d, L, f = c["hidden_size"], c["num_hidden_layers"], c["intermediate_size"]
    hq, hkv = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or d // hq
    gemma = name.startswith("gemma")
    norm_mean = 0.0 if gemma else 1.0          # Gemma stores w with gain 1 + w
    W["model.embed_tokens.weight"] = torch.randn(c["vocab_size"], d, generator=g) * (0.3 if gemma else 1.0)
    for i in range(L):
        p = "model.layers.%d." % i
        W[p + "self_attn.q_proj.weight"] = mat(hq * hd, d, 3.0)
        W[p + "self_attn.k_proj.weight"] = mat(hkv * hd, d, 3.0)
        W[p + "self_attn.v_proj.weight"] = mat(hkv * hd, d)
        W[p + "self_attn.o_proj.weight"] = mat(d, hq * hd)
        if name in ("qwen2", "qwen2moe"):
            W[p + "self_attn.q_proj.bias"] = vec(hq * hd, 0.0, 0.5)
            W[p + "self_attn.k_proj.bias"] = vec(hkv * hd, 0.0, 0.5)
            W[p + "self_attn.v_proj.bias"] = vec(hkv * hd, 0.0, 0.5)
        if name == "olmo2":
            W[p + "self_attn.q_norm.weight"] = vec(hq * hd, 1.0)
            W[p + "self_attn.k_norm.weight"] = vec(hkv * hd, 1.0)
        if name == "gemma3":
            W[p + "self_attn.q_norm.weight"] = vec(hd, 0.0)
            W[p + "self_attn.k_norm.weight"] = vec(hd, 0.0)
        if name == "mixtral":                                   # router [E, d]; w1 gate, w3 up, w2 down
            W[p + "block_sparse_moe.gate.weight"] = mat(c["num_local_experts"], d, 4.0)
            for e in range(c["num_local_experts"]):
                q = p + "block_sparse_moe.experts.%d." % e
                W[q + "w1.weight"], W[q + "w3.weight"], W[q + "w2.weight"] = mat(f, d), mat(f, d), mat(d, f)
        elif name == "qwen2moe" and sparse_layer(c, i):
            fe, fs = c["moe_intermediate_size"], c["shared_expert_intermediate_size"]
            W[p + "mlp.gate.weight"] = mat(c["num_experts"], d, 4.0)
            for e in range(c["num_experts"]):
                q = p + "mlp.experts.%d." % e
                W[q + "gate_proj.weight"], W[q + "up_proj.weight"], W[q + "down_proj.weight"] = \
                    mat(fe, d), mat(fe, d), mat(d, fe)
            q = p + "mlp.shared_expert."
            W[q + "gate_proj.weight"], W[q + "up_proj.weight"], W[q + "down_proj.weight"] = \
                mat(fs, d), mat(fs, d), mat(d, fs)
            W[p + "mlp.shared_expert_gate.weight"] = mat(1, d, 2.0)   # nn.Linear(d, 1): [1, d]
        else:
            W[p + "mlp.gate_proj.weight"] = mat(f, d)
            W[p + "mlp.up_proj.weight"] = mat(f, d)
            W[p + "mlp.down_proj.weight"] = mat(d, f)
        if name != "olmo2":
            W[p + "input_layernorm.weight"] = vec(d, norm_mean)
        W[p + "post_attention_layernorm.weight"] = vec(d, norm_mean)
        if gemma:
            W[p + "pre_feedforward_layernorm.weight"] = vec(d, norm_mean)
        if gemma or name == "olmo2":
            W[p + "post_feedforward_layernorm.weight"] = vec(d, norm_mean)
    W["model.norm.weight"] = vec(d, norm_mean)
    if not c.get("tie_word_embeddings", False):
        W["lm_head.weight"] = mat(c["vocab_size"], d, 4.0)
    return W


def round_bf16(t):
    """Round-to-nearest-even to bfloat16, returned as float64 (exactly representable)."""
    return t.to(torch.float32).to(torch.bfloat16).to(torch.float64)


# ---------------------------------------------------------------------------------------------------
# Forward pass from the equations (float64)
# ---------------------------------------------------------------------------------------------------

def rms_norm(x, w, eps, offset=False):
    r = torch.sqrt((x * x).mean(-1, keepdim=True) + eps)
    return x / r * ((1.0 + w) if offset else w)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh((2.0 / torch.pi) ** 0.5 * (x + 0.044715 * x ** 3)))


def llama3_inv_freq(hd, theta, rs):
    """Llama 3.1 frequency rescaling (ARCHITECTURES.md §2.2): keep short wavelengths, divide long ones by
    factor, interpolate linearly in 1/wavelength between."""
    w = 1.0 / theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    return torch.tensor(llama3_rescale(w.tolist(), rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"],
                                       rs["original_max_position_embeddings"]))


def rope_half(x, pos, theta, scale_div=1.0, inv=None):
    """x [T, H, hd]; pairs (i, i + hd/2); angle = pos * theta^(-2i/hd) / scale_div (or pos * inv[i])."""
    hd = x.shape[-1]
    if inv is None:
        inv = 1.0 / theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd) / scale_div
    ang = pos[:, None].double() * inv[None, :]                      # [T, hd/2]
    cos, sin = torch.cos(ang)[:, None, :].to(x.dtype), torch.sin(ang)[:, None, :].to(x.dtype)
    a, b = x[..., : hd // 2], x[..., hd // 2:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


def attention(q, k, v, scale, window=0, softcap=None):
    """q [T, Hq, hd], k, v [T, Hkv, hd]: causal (optionally sliding-window) softmax attention."""
    T, hq, hd = q.shape
    g = hq // k.shape[1]
    k = k.repeat_interleave(g, dim=1)
    v = v.repeat_interleave(g, dim=1)
    s = torch.einsum("ihd,jhd->hij", q, k) * scale
    if softcap:
        s = softcap * torch.tanh(s / softcap)
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    visible = j <= i
    if window:
        visible = visible & (j > i - window)
    s = s.masked_fill(~visible[None], float("-inf"))
    p = torch.softmax(s, dim=-1)
    return torch.einsum("hij,jhd->ihd", p, v).reshape(T, hq * hd)


def swiglu(h, gate, up, down):
    return (torch.nn.functional.silu(h @ gate.T) * (h @ up.T)) @ down.T


MIN_ROUTER_GAP = [float("inf")]    # smallest router-logit gap l_(k) - l_(k+1) seen: top-k must not hinge on rounding


def moe(name, c, W, p, h):
    """Sparse MoE FFN of one layer, h [T, d]:  Σ_{e ∈ topk(softmax(h·Rᵀ))} w_e · SwiGLU_e(h)  (Mixtral: w = top-k
    probabilities renormalised to sum 1; Qwen2-MoE: raw probabilities unless norm_topk_prob) + for Qwen2-MoE
    σ(h·s) · SwiGLU_shared(h)."""
    if name == "mixtral":
        router, E, norm = W[p + "block_sparse_moe.gate.weight"], c["num_local_experts"], True
        ex = [tuple(W[p + "block_sparse_moe.experts.%d.%s.weight" % (e, n)] for n in ("w1", "w3", "w2"))
              for e in range(E)]
    else:
        router, E, norm = W[p + "mlp.gate.weight"], c["num_experts"], c["norm_topk_prob"]
        ex = [tuple(W[p + "mlp.experts.%d.%s_proj.weight" % (e, n)] for n in ("gate", "up", "down"))
              for e in range(E)]
    k = c["num_experts_per_tok"]
    logits = h @ router.T                                               # [T, E]
    probs = torch.softmax(logits, dim=-1)
    srt = logits.sort(dim=-1, descending=True).values                  # softmax is monotone: gap in logits
    MIN_ROUTER_GAP[0] = min(MIN_ROUTER_GAP[0], float((srt[:, k - 1] - srt[:, k]).min()))
    top = probs.topk(k, dim=-1)
    w = top.values / top.values.sum(-1, keepdim=True) if norm else top.values
    out = torch.zeros_like(h)
    for t in range(h.shape[0]):
        for j in range(k):
            out[t] += w[t, j] * swiglu(h[t:t + 1], *ex[int(top.indices[t, j])])[0]
    if name == "qwen2moe":
        q = p + "mlp.shared_expert."
        gate = torch.sigmoid(h @ W[p + "mlp.shared_expert_gate.weight"].T)     # [T, 1]
        out = out + gate * swiglu(h, W[q + "gate_proj.weight"], W[q + "up_proj.weight"], W[q + "down_proj.weight"])
    return out


def forward(name, c, W, tokens, gguf_scale=False, offset_norms=True):
    """Returns (logits [T, V], hidden [T, d]) for token list `tokens` (HF weight names/layouts).

    gguf_scale: Gemma with llama.cpp's attention scale 1/sqrt(head_dim) instead of query_pre_attn_scalar.
    offset_norms: Gemma norms stored as w with gain 1 + w (HF); False when gains are stored (GGUF).
    """
    tok = torch.tensor(tokens)
    T = len(tokens)
    pos = torch.arange(T)
    if name == "gpt2":
        d, H = c["n_embd"], c["n_head"]
        hd, eps = d // H, c["layer_norm_epsilon"]
        x = W["transformer.wte.weight"][tok] + W["transformer.wpe.weight"][pos]
        for i in range(c["n_layer"]):
            p = "transformer.h.%d." % i
            h = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
            qkv = h @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]   # Conv1D: x @ W[in, out]
            q, k, v = qkv.split(d, dim=-1)
            a = attention(q.view(T, H, hd), k.view(T, H, hd), v.view(T, H, hd), hd ** -0.5)
            x = x + a @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
            h = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
            m = gelu_tanh(h @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"])
            x = x + m @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
        hidden = layer_norm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], eps)
        return hidden @ W["transformer.wte.weight"].T, hidden

    d, L = c["hidden_size"], c["num_hidden_layers"]
    hq, hkv = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or d // hq
    eps = c["rms_norm_eps"]
    gemma = name.startswith("gemma")
    off = gemma and offset_norms

    def norm(x, key):
        return rms_norm(x, W[key], eps, off)

    x = W["model.embed_tokens.weight"][tok]
    if gemma:
        x = x * torch.tensor(d ** 0.5, dtype=torch.float32).to(x.dtype)   # normalizer in the F32 activation dtype
    for i in range(L):
        p = "model.layers.%d." % i
        a_in = x if name == "olmo2" else norm(x, p + "input_layernorm.weight")

        def proj(key, bias_key):
            y = a_in @ W[key].T
            return y + W[bias_key] if bias_key in W else y

        q = proj(p + "self_attn.q_proj.weight", p + "self_attn.q_proj.bias")
        k = proj(p + "self_attn.k_proj.weight", p + "self_attn.k_proj.bias")
        v = proj(p + "self_attn.v_proj.weight", p + "self_attn.v_proj.bias")
        if name == "olmo2":                                     # QK-norm over the full projection width
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.view(T, hq, hd), k.view(T, hkv, hd), v.view(T, hkv, hd)
        if name == "gemma3":                                    # per-head QK-norm, Gemma gain
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps, off)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps, off)
        theta, div, window, scale, cap = c["rope_theta"], 1.0, 0, hd ** -0.5, None
        if gemma:
            scale = hd ** -0.5 if gguf_scale else c["query_pre_attn_scalar"] ** -0.5
            cap = c.get("attn_logit_softcapping")
        if name == "gemma2":
            window = c["sliding_window"] if i % 2 == 0 else 0
        if name == "gemma3":
            sliding = c["layer_types"][i] == "sliding_attention"
            window = c["sliding_window"] if sliding else 0
            if sliding:
                theta = c["rope_local_base_freq"]
            else:
                div = c["rope_scaling"]["factor"]
        if name in ("llama", "qwen2", "qwen2moe", "mixtral"):
            window = hf_window(c, i)
        inv = None
        rs = c.get("rope_scaling") or {}
        if rs.get("rope_type") == "llama3":
            inv = llama3_inv_freq(hd, theta, rs)
        q, k = rope_half(q, pos, theta, div, inv), rope_half(k, pos, theta, div, inv)
        a = attention(q, k, v, scale, window, cap) @ W[p + "self_attn.o_proj.weight"].T
        if gemma:
            x = x + norm(a, p + "post_attention_layernorm.weight")
            h = norm(x, p + "pre_feedforward_layernorm.weight")
            m = (gelu_tanh(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)) \
                @ W[p + "mlp.down_proj.weight"].T
            x = x + norm(m, p + "post_feedforward_layernorm.weight")
        elif name == "olmo2":
            x = x + norm(a, p + "post_attention_layernorm.weight")
            m = (torch.nn.functional.silu(x @ W[p + "mlp.gate_proj.weight"].T) * (x @ W[p + "mlp.up_proj.weight"].T)) \
                @ W[p + "mlp.down_proj.weight"].T
            x = x + norm(m, p + "post_feedforward_layernorm.weight")
        else:
            x = x + a
            h = norm(x, p + "post_attention_layernorm.weight")      # = pre-FFN norm in Llama naming
            if name == "mixtral" or (name == "qwen2moe" and sparse_layer(c, i)):
                x = x + moe(name, c, W, p, h)
                continue
            m = (torch.nn.functional.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)) \
                @ W[p + "mlp.down_proj.weight"].T
            x = x + m
    hidden = norm(x, "model.norm.weight")
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    logits = hidden @ head.T
    cap = c.get("final_logit_softcapping")
    if cap:
        logits = cap * torch.tanh(logits / cap)
    return logits, hidden


# ---------------------------------------------------------------------------------------------------
# Writers: safetensors and GGUF
# ---------------------------------------------------------------------------------------------------

def write_safetensors(path, W, dtype):
    header, blobs, off = {}, [], 0
    for k in sorted(W):
        a = W[k].to(torch.float32)
        if dtype == "BF16":
            b = a.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            b = a.numpy().astype("<f4").tobytes()
        header[k] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt", "generator": "reference/arch/arch_reference.py"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY = 4, 5, 6, 7, 8, 9


class GgufWriter:
    """Minimal GGUF v3 writer: metadata (u32/f32/string/string-array) and F32 tensors, 32-byte alignment."""

    def __init__(self):
        self.kvs, self.tensors = [], []

    def add(self, key, value):
        self.kvs.append((key, value))

    def tensor(self, name, a):
        self.tensors.append((name, np.ascontiguousarray(a.to(torch.float32).numpy(), dtype="<f4")))

    @staticmethod
    def _str(s):
        b = s.encode()
        return struct.pack("<Q", len(b)) + b

    def _value(self, v):
        if isinstance(v, bool):
            return struct.pack("<I?", T_BOOL, v)
        if isinstance(v, int):
            return struct.pack("<Ii", T_INT32, v) if v < 0 else struct.pack("<II", T_UINT32, v)
        if isinstance(v, float):
            return struct.pack("<If", T_FLOAT32, v)
        if isinstance(v, str):
            return struct.pack("<I", T_STRING) + self._str(v)
        if isinstance(v, list):
            return struct.pack("<IIQ", T_ARRAY, T_STRING, len(v)) + b"".join(self._str(s) for s in v)
        raise TypeError(v)

    def write(self, path):
        out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(self.tensors), len(self.kvs)))
        for k, v in self.kvs:
            out += self._str(k) + self._value(v)
        off = 0
        for name, a in self.tensors:
            out += self._str(name) + struct.pack("<I", a.ndim)
            for n in reversed(a.shape):                        # GGUF lists dims innermost first
                out += struct.pack("<Q", n)
            out += struct.pack("<IQ", 0, off)                  # type 0 = F32
            off += (a.nbytes + 31) // 32 * 32
        out += b"\0" * ((32 - len(out) % 32) % 32)
        for _, a in self.tensors:
            out += a.tobytes() + b"\0" * ((32 - a.nbytes % 32) % 32)
        with open(path, "wb") as f:
            f.write(out)


def permute_llama(w, heads):
    """llama.cpp's HF->GGUF Q/K row permutation: GGUF row 2i = HF row i, 2i+1 = HF row i + hd/2 (per head)."""
    out_dim = w.shape[0]
    hd = out_dim // heads
    rest = w.shape[1:]
    return w.reshape(heads, 2, hd // 2, *rest).transpose(1, 2).reshape(out_dim, *rest)


GGUF_ARCH = {"llama": "llama", "llama3": "llama", "qwen2moe-mixed": "qwen2moe", "mistral-window": "llama",
             "qwen2-window": "qwen2", "qwen2": "qwen2", "gemma2": "gemma2", "gemma3": "gemma3", "olmo2": "olmo2",
             "gpt2": "gpt2", "mixtral": "llama", "qwen2moe": "qwen2moe"}


def write_gguf(path, name, c, W):
    gw = GgufWriter()
    arch = GGUF_ARCH[name]
    gw.add("general.architecture", arch)
    gw.add("general.name", "tiny-" + name)
    gw.add("general.alignment", 32)
    a = arch + "."
    if name == "gpt2":
        d = c["n_embd"]
        gw.add(a + "context_length", c["n_positions"])
        gw.add(a + "embedding_length", d)
        gw.add(a + "block_count", c["n_layer"])
        gw.add(a + "feed_forward_length", 4 * d)
        gw.add(a + "attention.head_count", c["n_head"])
        gw.add(a + "attention.layer_norm_epsilon", float(c["layer_norm_epsilon"]))
        gw.tensor("token_embd.weight", W["transformer.wte.weight"])
        gw.tensor("position_embd.weight", W["transformer.wpe.weight"])
        for i in range(c["n_layer"]):
            p, b = "transformer.h.%d." % i, "blk.%d." % i
            gw.tensor(b + "attn_norm.weight", W[p + "ln_1.weight"])
            gw.tensor(b + "attn_norm.bias", W[p + "ln_1.bias"])
            gw.tensor(b + "attn_qkv.weight", W[p + "attn.c_attn.weight"].T)   # converter transposes Conv1D
            gw.tensor(b + "attn_qkv.bias", W[p + "attn.c_attn.bias"])
            gw.tensor(b + "attn_output.weight", W[p + "attn.c_proj.weight"].T)
            gw.tensor(b + "attn_output.bias", W[p + "attn.c_proj.bias"])
            gw.tensor(b + "ffn_norm.weight", W[p + "ln_2.weight"])
            gw.tensor(b + "ffn_norm.bias", W[p + "ln_2.bias"])
            gw.tensor(b + "ffn_up.weight", W[p + "mlp.c_fc.weight"].T)
            gw.tensor(b + "ffn_up.bias", W[p + "mlp.c_fc.bias"])
            gw.tensor(b + "ffn_down.weight", W[p + "mlp.c_proj.weight"].T)
            gw.tensor(b + "ffn_down.bias", W[p + "mlp.c_proj.bias"])
        gw.tensor("output_norm.weight", W["transformer.ln_f.weight"])
        gw.tensor("output_norm.bias", W["transformer.ln_f.bias"])
        gw.write(path)
        return
    d, L = c["hidden_size"], c["num_hidden_layers"]
    hq, hkv = c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or d // hq
    gemma = name.startswith("gemma")
    gw.add(a + "context_length", c["max_position_embeddings"])
    gw.add(a + "embedding_length", d)
    gw.add(a + "block_count", L)
    gw.add(a + "feed_forward_length", c["intermediate_size"])
    if name == "mixtral":
        gw.add(a + "expert_count", c["num_local_experts"])
        gw.add(a + "expert_used_count", c["num_experts_per_tok"])
    if name == "qwen2moe":
        gw.add(a + "expert_count", c["num_experts"])
        gw.add(a + "expert_used_count", c["num_experts_per_tok"])
        gw.add(a + "expert_feed_forward_length", c["moe_intermediate_size"])
        gw.add(a + "expert_shared_feed_forward_length", c["shared_expert_intermediate_size"])
    gw.add(a + "attention.head_count", hq)
    gw.add(a + "attention.head_count_kv", hkv)
    gw.add(a + "attention.key_length", hd)
    gw.add(a + "attention.value_length", hd)
    gw.add(a + "attention.layer_norm_rms_epsilon", float(c["rms_norm_eps"]))
    gw.add(a + "rope.freq_base", float(c["rope_theta"]))
    if name == "gemma2":
        gw.add(a + "attn_logit_softcapping", float(c["attn_logit_softcapping"]))
        gw.add(a + "final_logit_softcapping", float(c["final_logit_softcapping"]))
        gw.add(a + "attention.sliding_window", c["sliding_window"])
    if name == "gemma3":
        gw.add(a + "attention.sliding_window", c["sliding_window"])
    windows = {hf_window(c, i) for i in range(L)} if GGUF_ARCH[name] in ("llama", "qwen2", "qwen2moe") else {0}
    if len(windows) == 1 and windows != {0}:        # a uniform window: <arch>.attention.sliding_window
        gw.add(a + "attention.sliding_window", windows.pop())
    elif windows != {0}:
        raise ValueError("GGUF has no per-layer window for " + name)
        gw.add(a + "rope.scaling.type", "linear")
        gw.add(a + "rope.scaling.factor", float(c["rope_scaling"]["factor"]))

    def norm(t):
        return t + 1.0 if gemma else t                         # converter folds Gemma's 1 + w

    gw.tensor("token_embd.weight", W["model.embed_tokens.weight"])
    rs = c.get("rope_scaling") or {}
    if rs.get("rope_type") == "llama3":                        # converter: per-pair divisors ω/ω'
        w = 1.0 / c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        gw.tensor("rope_freqs.weight", w / llama3_inv_freq(hd, c["rope_theta"], rs))
    for i in range(L):
        p, b = "model.layers.%d." % i, "blk.%d." % i
        q, k = W[p + "self_attn.q_proj.weight"], W[p + "self_attn.k_proj.weight"]
        if GGUF_ARCH[name] == "llama":
            q, k = permute_llama(q, hq), permute_llama(k, hkv)
        gw.tensor(b + "attn_q.weight", q)
        gw.tensor(b + "attn_k.weight", k)
        gw.tensor(b + "attn_v.weight", W[p + "self_attn.v_proj.weight"])
        gw.tensor(b + "attn_output.weight", W[p + "self_attn.o_proj.weight"])
        for proj, g in (("q", "attn_q"), ("k", "attn_k"), ("v", "attn_v")):
            if p + "self_attn.%s_proj.bias" % proj in W:
                gw.tensor(b + g + ".bias", W[p + "self_attn.%s_proj.bias" % proj])
        if p + "self_attn.q_norm.weight" in W:
            gw.tensor(b + "attn_q_norm.weight", norm(W[p + "self_attn.q_norm.weight"]))
            gw.tensor(b + "attn_k_norm.weight", norm(W[p + "self_attn.k_norm.weight"]))
        if p + "input_layernorm.weight" in W:
            gw.tensor(b + "attn_norm.weight", norm(W[p + "input_layernorm.weight"]))
        if gemma or name == "olmo2":
            gw.tensor(b + "post_attention_norm.weight", norm(W[p + "post_attention_layernorm.weight"]))
            gw.tensor(b + "post_ffw_norm.weight", norm(W[p + "post_feedforward_layernorm.weight"]))
            if gemma:
                gw.tensor(b + "ffn_norm.weight", norm(W[p + "pre_feedforward_layernorm.weight"]))
        else:
            gw.tensor(b + "ffn_norm.weight", W[p + "post_attention_layernorm.weight"])
        if name == "mixtral":                   # converter stacks experts: ffn_*_exps [E, out, in]
            q = p + "block_sparse_moe."
            E = c["num_local_experts"]
            gw.tensor(b + "ffn_gate_inp.weight", W[q + "gate.weight"])
            for g, n in (("gate", "w1"), ("up", "w3"), ("down", "w2")):
                gw.tensor(b + "ffn_%s_exps.weight" % g,
                          torch.stack([W[q + "experts.%d.%s.weight" % (e, n)] for e in range(E)]))
        elif name == "qwen2moe" and sparse_layer(c, i):
            q = p + "mlp."
            E = c["num_experts"]
            gw.tensor(b + "ffn_gate_inp.weight", W[q + "gate.weight"])
            for g in ("gate", "up", "down"):
                gw.tensor(b + "ffn_%s_exps.weight" % g,
                          torch.stack([W[q + "experts.%d.%s_proj.weight" % (e, g)] for e in range(E)]))
                gw.tensor(b + "ffn_%s_shexp.weight" % g, W[q + "shared_expert.%s_proj.weight" % g])
            gw.tensor(b + "ffn_gate_inp_shexp.weight", W[q + "shared_expert_gate.weight"][0])   # stored as [d]
        else:
            gw.tensor(b + "ffn_gate.weight", W[p + "mlp.gate_proj.weight"])
            gw.tensor(b + "ffn_up.weight", W[p + "mlp.up_proj.weight"])
            gw.tensor(b + "ffn_down.weight", W[p + "mlp.down_proj.weight"])
    gw.tensor("output_norm.weight", norm(W["model.norm.weight"]))
    if "lm_head.weight" in W:
        gw.tensor("output.weight", W["lm_head.weight"])
    gw.write(path)


# ---------------------------------------------------------------------------------------------------
# GGUF synthetic models -> HF-named weights for the same forward
# ---------------------------------------------------------------------------------------------------

def synth_gemma2(meta):
    a = "gemma2."
    L = meta[a + "block_count"]
    c = dict(hidden_size=meta[a + "embedding_length"], num_hidden_layers=L,
             num_attention_heads=meta[a + "attention.head_count"],
             num_key_value_heads=meta[a + "attention.head_count_kv"], head_dim=meta[a + "attention.key_length"],
             rms_norm_eps=meta[a + "attention.layer_norm_rms_epsilon"], rope_theta=meta.get(a + "rope.freq_base",
                                                                                             10000.0),
             attn_logit_softcapping=meta[a + "attn_logit_softcapping"],
             final_logit_softcapping=meta[a + "final_logit_softcapping"],
             sliding_window=meta[a + "attention.sliding_window"], query_pre_attn_scalar=None)
    names = {"attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight",
             "attn_v.weight": "self_attn.v_proj.weight", "attn_output.weight": "self_attn.o_proj.weight",
             "attn_norm.weight": "input_layernorm.weight", "post_attention_norm.weight":
                 "post_attention_layernorm.weight", "ffn_norm.weight": "pre_feedforward_layernorm.weight",
             "post_ffw_norm.weight": "post_feedforward_layernorm.weight", "ffn_gate.weight": "mlp.gate_proj.weight",
             "ffn_up.weight": "mlp.up_proj.weight", "ffn_down.weight": "mlp.down_proj.weight"}
    return c, names, {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight"}


def from_gguf(path):
    meta, T = read_gguf(path)
    arch = meta["general.architecture"]
    W = {}
    if arch == "gemma2":
        c, per_layer, top = synth_gemma2(meta)
        for k, v in T.items():
            t = torch.from_numpy(v.copy())
            if k in top:
                W[top[k]] = t
            else:
                _, i, rest = k.split(".", 2)
                W["model.layers.%s.%s" % (i, per_layer[rest])] = t
        return "gemma2", c, W
    if arch == "gpt2":
        a = "gpt2."
        c = dict(n_embd=meta[a + "embedding_length"], n_layer=meta[a + "block_count"],
                 n_head=meta[a + "attention.head_count"], layer_norm_epsilon=meta[a + "attention.layer_norm_epsilon"])
        t = {k: torch.from_numpy(v.copy()) for k, v in T.items()}
        W["transformer.wte.weight"] = t["token_embd.weight"]
        W["transformer.wpe.weight"] = t["position_embd.weight"]
        for i in range(c["n_layer"]):
            p, b = "transformer.h.%d." % i, "blk.%d." % i
            W[p + "ln_1.weight"], W[p + "ln_1.bias"] = t[b + "attn_norm.weight"], t[b + "attn_norm.bias"]
            W[p + "attn.c_attn.weight"], W[p + "attn.c_attn.bias"] = t[b + "attn_qkv.weight"].T, t[b + "attn_qkv.bias"]
            W[p + "attn.c_proj.weight"] = t[b + "attn_output.weight"].T
            W[p + "attn.c_proj.bias"] = t[b + "attn_output.bias"]
            W[p + "ln_2.weight"], W[p + "ln_2.bias"] = t[b + "ffn_norm.weight"], t[b + "ffn_norm.bias"]
            W[p + "mlp.c_fc.weight"], W[p + "mlp.c_fc.bias"] = t[b + "ffn_up.weight"].T, t[b + "ffn_up.bias"]
            W[p + "mlp.c_proj.weight"], W[p + "mlp.c_proj.bias"] = t[b + "ffn_down.weight"].T, t[b + "ffn_down.bias"]
        W["transformer.ln_f.weight"], W["transformer.ln_f.bias"] = t["output_norm.weight"], t["output_norm.bias"]
        head = t["output.weight"]
        return "gpt2", c, W, head
    raise ValueError(arch)


# ---------------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------------

def read_safetensors(path):
    """Own safetensors parser (F32/BF16/F16) -> {name: float64 tensor}."""
    data = open(path, "rb").read()
    n = struct.unpack_from("<Q", data, 0)[0]
    hdr = json.loads(data[8:8 + n])
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        raw = data[8 + n + a:8 + n + b]
        if v["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif v["dtype"] == "F16":
            arr = np.frombuffer(raw, dtype="<f2")
        elif v["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype("<u4") << 16).view("<f4")
        else:
            raise ValueError(v["dtype"])
        out[k] = torch.from_numpy(arr.astype(np.float64).reshape(v["shape"]))
    return out


def rows(t, ids=None):
    t = t.detach()
    if ids is not None:
        t = t[:, ids]
    return [[float("%.9g" % v) for v in r] for r in t.tolist()]


def header(name, dtype, atol):
    return {"format": "interlayer-golden", "version": 1, "generator": "reference/arch/arch_reference.py",
            "seed": SEED, "atol": atol, "rtol": 0.0, "model": name, "dtype": dtype}


def inputs():
    """The 17-token and 1-token inputs of every fixture of main() and extras()."""
    g = torch.Generator().manual_seed(SEED)
    tokens17 = torch.randint(0, VOCAB, (17,), generator=g).tolist()
    tokens1 = [int(torch.randint(0, VOCAB, (1,), generator=g))]
    return tokens17, tokens1


def logits_fixture(name, dtype, arch, c, W, tokens17, tokens1):
    """The part every model fixture has: header, logits and hidden states of the 17-token input, logits of the
    1-token input (forward as architecture `arch`)."""
    fx = header(name, dtype, 1e-4)
    fx["tokens"] = tokens17
    logits, hidden = forward(arch, c, W, tokens17)
    fx["logits"] = rows(logits)
    fx["hidden"] = rows(hidden)
    fx["tokens1"] = tokens1
    fx["logits1"] = rows(forward(arch, c, W, tokens1)[0])
    return fx


def write_golden(res, name, fx):
    with open(os.path.join(res, "golden", "arch", name + ".json"), "w") as f:
        json.dump(fx, f)


def main(root):
    res = os.path.join(root, "models", "src", "test", "resources")
    os.makedirs(os.path.join(res, "golden", "arch"), exist_ok=True)
    os.makedirs(os.path.join(res, "gguf"), exist_ok=True)
    tokens17, tokens1 = inputs()
    for name, c in configs().items():
        base = "llama" if name == "llama3" else name              # llama3 = llama weights + rope_scaling
        W = make_weights(base, c, torch.Generator().manual_seed(SEED + sum(map(ord, base))))
        for dtype in ("F32", "BF16"):
            folder = os.path.join(res, "hf", name if dtype == "F32" else name + "-bf16")
            os.makedirs(folder, exist_ok=True)
            cfg = dict(c, torch_dtype="float32" if dtype == "F32" else "bfloat16")
            with open(os.path.join(folder, "config.json"), "w") as f:
                json.dump(cfg, f, indent=2)
            Wd = W if dtype == "F32" else {k: round_bf16(v) for k, v in W.items()}
            write_safetensors(os.path.join(folder, "model.safetensors"), Wd, dtype)
            fx = logits_fixture(name, dtype, name, c, Wd, tokens17, tokens1)
            if name == "qwen2moe" and dtype == "F32":            # same weights, top-k renormalised
                fx["norm_topk_logits"] = rows(forward(name, dict(c, norm_topk_prob=True), Wd, tokens17)[0])
            if name.startswith("gemma") and dtype == "F32":
                fx["gguf_logits"] = rows(forward(name, c, Wd, tokens17, gguf_scale=True)[0])
            write_golden(res, name if dtype == "F32" else name + "-bf16", fx)
        write_gguf(os.path.join(res, "gguf", name + ".gguf"), name, c, W)
        # self-check: the GGUF re-read through the numpy parser holds the same numbers
        meta, T = read_gguf(os.path.join(res, "gguf", name + ".gguf"))
        assert meta["general.architecture"] == GGUF_ARCH[name], meta
        print(name, "ok", "logits[0,:3] =", fx["logits"][0][:3])
    # a top-k choice closer than float32 rounding could route Java and PyTorch to different experts
    print("smallest router-logit gap l_(k) - l_(k+1): %.3g" % MIN_ROUTER_GAP[0])
    assert MIN_ROUTER_GAP[0] > 1e-4, MIN_ROUTER_GAP[0]

    fake = os.path.join(root, "..", "shared", "models", "hf-tiny-random", "fake_gpt2")
    if os.path.isdir(fake):
        c = json.load(open(os.path.join(fake, "config.json")))
        W = read_safetensors(os.path.join(fake, "model.safetensors"))
        toks = [int(t) for t in torch.randint(0, c["vocab_size"], (17,), generator=torch.Generator().manual_seed(11))]
        logits, hidden = forward("gpt2", c, W, toks)
        ids = list(range(0, c["vocab_size"], 97)) + [int(logits[-1].argmax())]
        fx = header("fake_gpt2", "F32", 1e-4)
        fx.update(tokens=toks, ids=ids, logits=rows(logits, ids), hidden=rows(hidden))
        write_golden(res, "fake_gpt2", fx)
        print("fake_gpt2 ok", "argmax", ids[-1])

    shared = os.path.join(root, "..", "shared", "models", "synthetic")
    for fname, out in (("synth-gemma2-f32.gguf", "synth-gemma2"), ("synth-gpt2-f32.gguf", "synth-gpt2")):
        path = os.path.join(shared, fname)
        if not os.path.exists(path):
            print("skip", path)
            continue
        got = from_gguf(path)
        if got[0] == "gemma2":
            _, c, W = got
            vocab = W["model.embed_tokens.weight"].shape[0]
            toks = [int(t) for t in torch.randint(0, vocab, (17,), generator=torch.Generator().manual_seed(7))]
            logits, hidden = forward("gemma2", c, W, toks, gguf_scale=True, offset_norms=False)
        else:
            _, c, W, head = got
            vocab = head.shape[0]
            toks = [int(t) for t in torch.randint(0, vocab, (17,), generator=torch.Generator().manual_seed(7))]
            _, hidden = forward("gpt2", c, W, toks)
            logits = hidden @ head.T
        ids = list(range(0, vocab, 7))
        fx = header(out, "F32", 1e-4)
        fx.update(tokens=toks, ids=ids, logits=rows(logits, ids), hidden=rows(hidden[-1:]))
        write_golden(res, out, fx)
        print(out, "ok", "argmax", logits[-1].argmax().item())


def extras(root):
    """F32 HF folder, GGUF (when the windows are uniform) and golden/arch/<name>.json for extra_configs(): logits
    for the 17- and 1-token inputs, hidden states, and "full_logits" (same weights, every window removed) so a
    test can check the window changes the result."""
    res = os.path.join(root, "models", "src", "test", "resources")
    tokens17, tokens1 = inputs()                                            # the same inputs as main()
    for name, c in extra_configs().items():
        base = BASE[name]
        W = make_weights(base, c, torch.Generator().manual_seed(SEED + sum(map(ord, name))))
        folder = os.path.join(res, "hf", name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
        write_safetensors(os.path.join(folder, "model.safetensors"), W, "F32")
        fx = logits_fixture(name, "F32", base, c, W, tokens17, tokens1)
        fx["windows"] = [hf_window(c, i) for i in range(c["num_hidden_layers"])]
        if any(fx["windows"]):
            full = dict(c, sliding_window=None, use_sliding_window=False)
            fx["full_logits"] = rows(forward(base, full, W, tokens17)[0])
        if base == "qwen2moe":
            fx["sparse_layers"] = [i for i in range(c["num_hidden_layers"]) if sparse_layer(c, i)]
        write_golden(res, name, fx)
        if len(set(fx["windows"])) == 1:
            write_gguf(os.path.join(res, "gguf", name + ".gguf"), base, c, W)
            meta, _ = read_gguf(os.path.join(res, "gguf", name + ".gguf"))
            assert meta["general.architecture"] == GGUF_ARCH[base], meta
        print(name, "ok", "windows", fx["windows"], "logits[0,:3] =", fx["logits"][0][:3])
    print("smallest router-logit gap l_(k) - l_(k+1): %.3g" % MIN_ROUTER_GAP[0])
    assert MIN_ROUTER_GAP[0] > 1e-4, MIN_ROUTER_GAP[0]


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--extras"]
    repo = os.path.abspath(args[0] if args else os.path.join(HERE, "..", ".."))
    if "--extras" in sys.argv:
        extras(repo)
    else:
        main(repo)
