package dev.interlayer.models.gemma;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.lm.ConfiguredDecoder;
import dev.interlayer.models.lm.Weights;
import dev.interlayer.nn.Activation;
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
import dev.interlayer.nn.RopeScaling;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Gemma 2 / Gemma 3 decoder (Gemma Team 2024, "Gemma 2: Improving Open Language Models at a Practical Size"),
 * with Peri-LN placement (Kim et al. 2025, "Peri-LN: Revisiting Layer Normalization in the Transformer
 * Architecture"): every sublayer has an input and an output norm, x' = x + N_out(F(N_in(x))):
 *
 * <pre>
 *   x = embed[tokens] · sqrt(d)                                  [T, d]  (sqrt(d) rounded to F32, the activation dtype)
 *   for each layer ℓ:
 *     h = RMSNorm_in(x)
 *     q, k, v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ                              [T, Hq·dh], [T, Hkv·dh]
 *     (Gemma 3) q, k = RMSNorm_q(q_head), RMSNorm_k(k_head)     per head over dh
 *     q, k = RoPE(q, k)  half-split pairs; Gemma 3: base 10⁴ on sliding layers, rope_theta/linear factor on global
 *     s = softcap_a((q·k)·τ), τ = query_pre_attn_scalar^(−1/2); key j visible iff pos(i) − W &lt; pos(j) ≤ pos(i)
 *         on sliding layers (Gemma 2: even ℓ), causal otherwise
 *     x = x + RMSNorm_postattn(softmax(s)·V · Woᵀ)
 *     x = x + RMSNorm_postffw((gelu_tanh(h'·Wgateᵀ) ⊙ h'·Wupᵀ)·Wdownᵀ),  h' = RMSNorm_preffw(x)
 *   logits = softcap_f(RMSNorm_f(x) · embedᵀ)                     [T, vocab]  (tied head)
 * </pre>
 *
 * Every RMSNorm uses gain (1 + w) for HF weights and the stored gain for GGUF (llama.cpp's converter
 * already added 1; see {@link GemmaConfig#offsetNorms()}). Weight name table: {@link #load(GemmaConfig,
 * Weights, JsonObject)}.
 */
public final class GemmaModel extends ConfiguredDecoder<GemmaConfig> {
    private GemmaModel(GemmaConfig config, DecoderStack stack, Tensor head) {
        super(config, stack, head, config.finalSoftcap(), config.contextLength());
    }

    /**
     * Builds the model from {@code w} (the family registry's loading path: {@code Families.GEMMA}).
     *
     * @param hfConfig the folder's config.json when {@code w} holds Hugging Face names (model.layers.N.self_attn.q_proj
     *                 …, also under {@code language_model.} in the Gemma 3 multimodal checkpoints), null for
     *                 llama.cpp names (blk.N.attn_q …)
     */
    public static GemmaModel load(GemmaConfig c, Weights w, JsonObject hfConfig) throws ModelFormatException {
        boolean hf = hfConfig != null;
        boolean nested = hf && w.has("language_model.model.embed_tokens.weight");
        return load(c, w, hf, nested ? "language_model." : "");
    }

    private static GemmaModel load(GemmaConfig c, Weights w, boolean hf, String prefix) throws ModelFormatException {
        int d = c.dim(), f = c.hiddenDim();
        String m = prefix + "model.";
        Tensor embed = w.get(hf ? m + "embed_tokens.weight" : "token_embd.weight", c.vocabSize(), d);
        List<TransformerBlock> blocks = new ArrayList<>(c.layers());
        for (int l = 0; l < c.layers(); l++) {
            String p = hf ? m + "layers." + l + "." : "blk." + l + ".";
            boolean sliding = c.slidingLayers().get(l);
            RopeConfig rope = new RopeConfig(sliding ? c.ropeLocalTheta() : c.ropeTheta(), Rope.Pairing.HALF_SPLIT, 1.0,
                    sliding || c.ropeLinearFactor() == 1.0 ? new RopeScaling.None()
                            : new RopeScaling.Linear(c.ropeLinearFactor()));
            AttentionConfig ac = AttentionConfig.builder(d, c.heads(), c.contextLength())
                    .kvHeads(c.kvHeads()).headDim(c.headDim()).rope(rope)
                    .window(sliding ? Math.min(c.slidingWindow(), c.contextLength()) : 0)
                    .softcap(c.attnSoftcap()).scale(c.attnScale())
                    .qkNorm(c.version() == 3 ? QkNorm.HEAD : QkNorm.NONE).build();
            Attention attn = new Attention(ac,
                    new Linear(w.get(p + (hf ? "self_attn.q_proj.weight" : "attn_q.weight"), c.qDim(), d)),
                    new Linear(w.get(p + (hf ? "self_attn.k_proj.weight" : "attn_k.weight"), c.kvDim(), d)),
                    new Linear(w.get(p + (hf ? "self_attn.v_proj.weight" : "attn_v.weight"), c.kvDim(), d)),
                    new Linear(w.get(p + (hf ? "self_attn.o_proj.weight" : "attn_output.weight"), d, c.qDim())),
                    c.version() == 3 ? norm(c, w, p + (hf ? "self_attn.q_norm.weight" : "attn_q_norm.weight"),
                            c.headDim()) : null,
                    c.version() == 3 ? norm(c, w, p + (hf ? "self_attn.k_norm.weight" : "attn_k_norm.weight"),
                            c.headDim()) : null);
            GatedMlp mlp = new GatedMlp(
                    new Linear(w.get(p + (hf ? "mlp.gate_proj.weight" : "ffn_gate.weight"), f, d)),
                    new Linear(w.get(p + (hf ? "mlp.up_proj.weight" : "ffn_up.weight"), f, d)),
                    new Linear(w.get(p + (hf ? "mlp.down_proj.weight" : "ffn_down.weight"), d, f)),
                    Activation.GELU_TANH);
            blocks.add(new TransformerBlock(BlockConfig.of(ac, NormPlacement.PERI),
                    norm(c, w, p + (hf ? "input_layernorm.weight" : "attn_norm.weight"), d), attn,
                    norm(c, w, p + (hf ? "post_attention_layernorm.weight" : "post_attention_norm.weight"), d),
                    norm(c, w, p + (hf ? "pre_feedforward_layernorm.weight" : "ffn_norm.weight"), d), mlp,
                    norm(c, w, p + (hf ? "post_feedforward_layernorm.weight" : "post_ffw_norm.weight"), d)));
        }
        RmsNorm finalNorm = norm(c, w, hf ? m + "norm.weight" : "output_norm.weight", d);
        // Gemma ties the head to the embedding; a GGUF may still carry a separate output.weight
        Tensor head = !hf && w.has("output.weight") ? w.get("output.weight", c.vocabSize(), d) : embed;
        Embedding embedding = new Embedding(embed, Embedding.sqrtDimScale(d, DType.F32));
        return new GemmaModel(c, new DecoderStack(embedding, null, null, blocks, finalNorm), head);
    }

    private static RmsNorm norm(GemmaConfig c, Weights w, String name, int dim) throws ModelFormatException {
        return new RmsNorm(w.get(name, dim), c.rmsNormEps(), c.offsetNorms());
    }
}
