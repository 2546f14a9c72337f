package dev.interlayer.models.olmo;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.lm.ConfiguredDecoder;
import dev.interlayer.models.lm.HfJson;
import dev.interlayer.models.lm.Weights;
import dev.interlayer.nn.Attention;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.BlockConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.Embedding;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.QkNorm;
import dev.interlayer.nn.RmsNorm;
import dev.interlayer.nn.RopeConfig;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * OLMo 2 decoder (OLMo Team 2024, "2 OLMo 2 Furious") with output-only norms, x' = x + N_out(F(x)): the sublayers
 * see the un-normalized stream:
 *
 * <pre>
 *   x = embed[tokens]                                            [T, d]
 *   for each layer:
 *     q = RMSNorm_q(x·Wqᵀ) over Hq·dh ; k = RMSNorm_k(x·Wkᵀ) over Hkv·dh ; v = x·Wvᵀ   (flat QK-norm)
 *     q, k = RoPE(q, k)   half-split pairs
 *     x = x + RMSNorm_postattn(softmax(q·kᵀ/√dh, causal)·V · Woᵀ)
 *     x = x + RMSNorm_postffw((silu(x·Wgateᵀ) ⊙ x·Wupᵀ)·Wdownᵀ)
 *   logits = RMSNorm_f(x)·Woutᵀ                                   [T, vocab]
 * </pre>
 * Norms multiply in float32 (OLMo's cast order only matters for bf16 activations; ours are F32).
 */
public final class Olmo2Model extends ConfiguredDecoder<Olmo2Config> {
    private Olmo2Model(Olmo2Config config, DecoderStack stack, Tensor head) {
        super(config, stack, head, 0f, config.contextLength());
    }

    /**
     * Builds the model from {@code w} (the family registry's loading path: {@code Families.OLMO2}); the head is
     * the embedding when config.json says {@code tie_word_embeddings} (HF) or the file has no {@code output.weight}
     * (GGUF).
     *
     * @param hfConfig the folder's config.json when {@code w} holds Hugging Face names, null for llama.cpp names
     */
    public static Olmo2Model load(Olmo2Config c, Weights w, JsonObject hfConfig) throws ModelFormatException {
        boolean hf = hfConfig != null;
        boolean tied = hf ? HfJson.getBoolean(hfConfig, "tie_word_embeddings", false) : !w.has("output.weight");
        return load(c, w, hf, tied);
    }

    private static Olmo2Model load(Olmo2Config c, Weights w, boolean hf, boolean tied) throws ModelFormatException {
        int d = c.dim(), f = c.hiddenDim();
        Tensor embed = w.get(hf ? "model.embed_tokens.weight" : "token_embd.weight", c.vocabSize(), d);
        RopeConfig rope = RopeConfig.of(c.ropeTheta());
        List<TransformerBlock> blocks = new ArrayList<>(c.layers());
        for (int l = 0; l < c.layers(); l++) {
            String p = hf ? "model.layers." + l + "." : "blk." + l + ".";
            AttentionConfig ac = AttentionConfig.builder(d, c.heads(), c.contextLength())
                    .kvHeads(c.kvHeads()).headDim(c.headDim()).rope(rope).qkNorm(QkNorm.FLAT).build();
            Attention attn = new Attention(ac,
                    new Linear(w.get(p + (hf ? "self_attn.q_proj.weight" : "attn_q.weight"), c.qDim(), d)),
                    new Linear(w.get(p + (hf ? "self_attn.k_proj.weight" : "attn_k.weight"), c.kvDim(), d)),
                    new Linear(w.get(p + (hf ? "self_attn.v_proj.weight" : "attn_v.weight"), c.kvDim(), d)),
                    new Linear(w.get(p + (hf ? "self_attn.o_proj.weight" : "attn_output.weight"), d, c.qDim())),
                    norm(c, w, p + (hf ? "self_attn.q_norm.weight" : "attn_q_norm.weight"), c.qDim()),
                    norm(c, w, p + (hf ? "self_attn.k_norm.weight" : "attn_k_norm.weight"), c.kvDim()));
            GatedMlp mlp = GatedMlp.swiGlu(
                    new Linear(w.get(p + (hf ? "mlp.gate_proj.weight" : "ffn_gate.weight"), f, d)),
                    new Linear(w.get(p + (hf ? "mlp.up_proj.weight" : "ffn_up.weight"), f, d)),
                    new Linear(w.get(p + (hf ? "mlp.down_proj.weight" : "ffn_down.weight"), d, f)));
            blocks.add(new TransformerBlock(BlockConfig.of(ac, NormPlacement.OUTPUT), null, attn,
                    norm(c, w, p + (hf ? "post_attention_layernorm.weight" : "post_attention_norm.weight"), d), null,
                    mlp, norm(c, w, p + (hf ? "post_feedforward_layernorm.weight" : "post_ffw_norm.weight"), d)));
        }
        RmsNorm finalNorm = norm(c, w, hf ? "model.norm.weight" : "output_norm.weight", d);
        Tensor head = tied ? embed : w.get(hf ? "lm_head.weight" : "output.weight", c.vocabSize(), d);
        return new Olmo2Model(c, new DecoderStack(new Embedding(embed), null, null, blocks, finalNorm), head);
    }

    private static RmsNorm norm(Olmo2Config c, Weights w, String name, int dim) throws ModelFormatException {
        return new RmsNorm(w.get(name, dim), c.rmsNormEps());
    }
}
