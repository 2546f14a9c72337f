package dev.interlayer.models.llama;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.WeightSource;
import dev.interlayer.models.lm.HfJson;
import dev.interlayer.models.lm.Weights;
import dev.interlayer.models.llama.LlamaModel.Layer;
import dev.interlayer.models.llama.LlamaModel.Moe;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;

/**
 * The tensor names of the Llama family in both formats: llama.cpp's GGUF names ({@code blk.N.attn_q.weight},
 * 3-D expert tensors {@code blk.N.ffn_gate_exps.weight}) and Hugging Face names
 * ({@code model.layers.N.self_attn.q_proj.weight}; Mixtral {@code block_sparse_moe.*}, Qwen2-MoE
 * {@code mlp.experts.*} and {@code mlp.shared_expert*}). Every lookup is shape-checked by {@link Weights}.
 */
final class LlamaTensors {
    private LlamaTensors() {
    }

    static LlamaModel load(GgufFile file, WeightSource tensors) throws ModelFormatException {
        LlamaConfig c = LlamaConfig.fromGguf(file);
        Weights w = Weights.of(file, tensors);
        int d = c.dim(), h = c.denseHiddenDim();
        Tensor embed = w.get("token_embd.weight", c.vocabSize(), d);
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "blk." + i + ".";
            boolean sparse = c.isSparse(i);
            layers[i] = new Layer(
                    w.get(p + "attn_norm.weight", d),
                    w.get(p + "attn_q.weight", c.qDim(), d),
                    w.get(p + "attn_k.weight", c.kvDim(), d),
                    w.get(p + "attn_v.weight", c.kvDim(), d),
                    w.get(p + "attn_output.weight", d, c.qDim()),
                    w.optional(p + "attn_q.bias", c.qDim()),
                    w.optional(p + "attn_k.bias", c.kvDim()),
                    w.optional(p + "attn_v.bias", c.kvDim()),
                    w.get(p + "ffn_norm.weight", d),
                    sparse ? null : w.get(p + "ffn_gate.weight", h, d),
                    sparse ? null : w.get(p + "ffn_up.weight", h, d),
                    sparse ? null : w.get(p + "ffn_down.weight", d, h),
                    sparse ? ggufMoe(w, c, p) : null);
        }
        Tensor outNorm = w.get("output_norm.weight", d);
        Tensor output = w.has("output.weight") ? w.get("output.weight", c.vocabSize(), d) : embed;
        float[] ropeDivisors = w.has("rope_freqs.weight")
                ? w.get("rope_freqs.weight", c.ropeDim() / 2).contiguous().toFloatArray() : null;
        return LlamaModel.of(c, embed, layers, outNorm, output, ropeDivisors);
    }

    // Experts stored as 3-D tensors [experts, out, in]; each expert is a view of one slice.
    private static Moe ggufMoe(Weights w, LlamaConfig c, String p) throws ModelFormatException {
        int e = c.experts(), d = c.dim(), h = c.hiddenDim(), sh = c.sharedHiddenDim();
        Tensor g = w.get(p + "ffn_gate_exps.weight", e, h, d);
        Tensor u = w.get(p + "ffn_up_exps.weight", e, h, d);
        Tensor dn = w.get(p + "ffn_down_exps.weight", e, d, h);
        Tensor[] ge = new Tensor[e], ue = new Tensor[e], de = new Tensor[e];
        for (int i = 0; i < e; i++) {
            ge[i] = g.select(0, i);
            ue[i] = u.select(0, i);
            de[i] = dn.select(0, i);
        }
        boolean shared = sh > 0;
        return new Moe(w.get(p + "ffn_gate_inp.weight", e, d), ge, ue, de,
                shared ? w.vector(p + "ffn_gate_inp_shexp.weight", d) : null,
                shared ? w.get(p + "ffn_gate_shexp.weight", sh, d) : null,
                shared ? w.get(p + "ffn_up_shexp.weight", sh, d) : null,
                shared ? w.get(p + "ffn_down_shexp.weight", d, sh) : null);
    }

    /**
     * HF: half-split RoPE on the unpermuted Q/K rows, q/k/v biases when present (Qwen2), head tied to the
     * embedding when {@code tie_word_embeddings} or {@code lm_head.weight} is absent.
     */
    static LlamaModel load(HfFolder folder, WeightSource tensors) throws ModelFormatException {
        LlamaConfig c = HfJson.parseConfig(folder, LlamaConfig::fromHuggingFace, "llama-family config",
                "a supported llama/mistral/qwen2/mixtral/qwen2_moe config");
        Weights w = new Weights(tensors, folder.dir());
        int d = c.dim(), h = c.denseHiddenDim();
        Tensor embed = w.get("model.embed_tokens.weight", c.vocabSize(), d);
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            if (w.has(p + "self_attn.o_proj.bias")) {
                throw new ModelFormatException(folder.dir(), -1, "tensor '" + p + "self_attn.o_proj.bias'", "absent",
                        "present (output-projection bias is not supported)");
            }
            boolean sparse = c.isSparse(i);
            layers[i] = new Layer(
                    w.get(p + "input_layernorm.weight", d),
                    w.get(p + "self_attn.q_proj.weight", c.qDim(), d),
                    w.get(p + "self_attn.k_proj.weight", c.kvDim(), d),
                    w.get(p + "self_attn.v_proj.weight", c.kvDim(), d),
                    w.get(p + "self_attn.o_proj.weight", d, c.qDim()),
                    w.optional(p + "self_attn.q_proj.bias", c.qDim()),
                    w.optional(p + "self_attn.k_proj.bias", c.kvDim()),
                    w.optional(p + "self_attn.v_proj.bias", c.kvDim()),
                    w.get(p + "post_attention_layernorm.weight", d),   // the pre-FFN norm in Llama naming
                    sparse ? null : w.get(p + "mlp.gate_proj.weight", h, d),
                    sparse ? null : w.get(p + "mlp.up_proj.weight", h, d),
                    sparse ? null : w.get(p + "mlp.down_proj.weight", d, h),
                    sparse ? hfMoe(w, c, p) : null);
        }
        boolean tied = HfJson.getBoolean(folder.config(), "tie_word_embeddings", false) || !w.has("lm_head.weight");
        Tensor output = tied ? embed : w.get("lm_head.weight", c.vocabSize(), d);
        return LlamaModel.of(c, embed, layers, w.get("model.norm.weight", d), output, null);
    }

    /**
     * MoE weights of HF layer prefix {@code p}: Mixtral {@code block_sparse_moe.gate} (router) and
     * {@code block_sparse_moe.experts.N.w1/w3/w2} (gate/up/down); Qwen2-MoE {@code mlp.gate},
     * {@code mlp.experts.N.gate_proj/up_proj/down_proj}, {@code mlp.shared_expert.*} and
     * {@code mlp.shared_expert_gate} ([1, dim], an nn.Linear(dim, 1), read as [dim]).
     */
    private static Moe hfMoe(Weights w, LlamaConfig c, String p) throws ModelFormatException {
        int e = c.experts(), d = c.dim(), h = c.hiddenDim(), sh = c.sharedHiddenDim();
        boolean mixtral = !c.arch().equals("qwen2moe");
        String router = mixtral ? p + "block_sparse_moe.gate.weight" : p + "mlp.gate.weight";
        String ex = mixtral ? p + "block_sparse_moe.experts." : p + "mlp.experts.";
        String gate = mixtral ? ".w1.weight" : ".gate_proj.weight";
        String up = mixtral ? ".w3.weight" : ".up_proj.weight";
        String down = mixtral ? ".w2.weight" : ".down_proj.weight";
        Tensor[] ge = new Tensor[e], ue = new Tensor[e], de = new Tensor[e];
        for (int i = 0; i < e; i++) {
            ge[i] = w.get(ex + i + gate, h, d);
            ue[i] = w.get(ex + i + up, h, d);
            de[i] = w.get(ex + i + down, d, h);
        }
        boolean shared = sh > 0;
        String s = p + "mlp.shared_expert.";
        return new Moe(w.get(router, e, d), ge, ue, de,
                shared ? w.get(p + "mlp.shared_expert_gate.weight", 1, d).reshape(Shape.of(d)) : null,
                shared ? w.get(s + "gate_proj.weight", sh, d) : null,
                shared ? w.get(s + "up_proj.weight", sh, d) : null,
                shared ? w.get(s + "down_proj.weight", d, sh) : null);
    }
}
