package dev.interlayer.models.llama;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.lm.HfJson;
import dev.interlayer.models.lm.Weights;
import dev.interlayer.models.llama.LlamaModel.Layer;
import dev.interlayer.models.llama.LlamaModel.Moe;
import dev.interlayer.nn.AttentionConfig;
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

    /** Per-layer tensor names (after the layer prefix) of one format; oBias is a name the loader refuses. */
    private record Names(String layer, String attnNorm, String q, String k, String v, String o, String qBias,
                         String kBias, String vBias, String oBias, String ffnNorm, String gate, String up,
                         String down, boolean gguf) {
    }

    private static final Names GGUF = new Names("blk.", "attn_norm.weight", "attn_q.weight", "attn_k.weight",
            "attn_v.weight", "attn_output.weight", "attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias",
            "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", true);

    // post_attention_layernorm is the pre-FFN norm in Llama naming
    private static final Names HF = new Names("model.layers.", "input_layernorm.weight", "self_attn.q_proj.weight",
            "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight", "self_attn.q_proj.bias",
            "self_attn.k_proj.bias", "self_attn.v_proj.bias", "self_attn.o_proj.bias",
            "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
            false);

    private static Layer[] layers(Weights w, LlamaConfig c, Names n) throws ModelFormatException {
        int d = c.dim(), h = c.denseHiddenDim();
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = n.layer() + i + ".";
            if (w.has(p + n.oBias())) {
                throw new ModelFormatException(w.file(), -1, "tensor '" + p + n.oBias() + "'", "absent",
                        "present (output-projection bias is not supported)");
            }
            boolean sparse = c.isSparse(i);
            AttentionConfig a = c.attention(i);
            layers[i] = new Layer(
                    w.get(p + n.attnNorm(), d),
                    w.get(p + n.q(), a.qDim(), d),
                    w.get(p + n.k(), a.kvDim(), d),
                    w.get(p + n.v(), a.kvDim(), d),
                    w.get(p + n.o(), d, a.qDim()),
                    w.optional(p + n.qBias(), a.qDim()),
                    w.optional(p + n.kBias(), a.kvDim()),
                    w.optional(p + n.vBias(), a.kvDim()),
                    w.get(p + n.ffnNorm(), d),
                    sparse ? null : w.get(p + n.gate(), h, d),
                    sparse ? null : w.get(p + n.up(), h, d),
                    sparse ? null : w.get(p + n.down(), d, h),
                    !sparse ? null : n.gguf() ? ggufMoe(w, c, p) : hfMoe(w, c, p));
        }
        return layers;
    }

    /**
     * The model from {@code w}: llama.cpp names (with GGUF {@code rope_freqs} when present) when {@code hfConfig}
     * is null, else HF names with half-split RoPE on the unpermuted Q/K rows; q/k/v biases when present (Qwen2);
     * the head tied to the embedding when the file has no separate one (HF: also when
     * {@code tie_word_embeddings}).
     */
    static LlamaModel load(LlamaConfig c, Weights w, JsonObject hfConfig) throws ModelFormatException {
        boolean hf = hfConfig != null;
        int d = c.dim();
        Tensor embed = w.get(hf ? "model.embed_tokens.weight" : "token_embd.weight", c.vocabSize(), d);
        Layer[] layers = layers(w, c, hf ? HF : GGUF);
        Tensor outNorm = w.get(hf ? "model.norm.weight" : "output_norm.weight", d);
        String head = hf ? "lm_head.weight" : "output.weight";
        boolean tied = hf && HfJson.getBoolean(hfConfig, "tie_word_embeddings", false) || !w.has(head);
        Tensor output = tied ? embed : w.get(head, c.vocabSize(), d);
        float[] ropeDivisors = !hf && w.has("rope_freqs.weight")
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
