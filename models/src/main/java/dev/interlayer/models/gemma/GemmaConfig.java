package dev.interlayer.models.gemma;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.lm.DecoderSizes;
import dev.interlayer.models.lm.HfJson;
import java.util.ArrayList;
import java.util.List;

/**
 * Hyperparameters of a Gemma 2 or Gemma 3 text decoder: Peri-LN ("sandwich") norms, grouped-query attention,
 * soft-capping s = c·tanh(s/c) of attention and final logits (Gemma 2), and alternating sliding-window and global
 * layers.
 *
 * @param version          2 or 3
 * @param dim              residual width d (hidden_size)
 * @param hiddenDim        GeGLU width (intermediate_size)
 * @param layers           number of blocks
 * @param heads            query heads
 * @param kvHeads          key/value heads
 * @param headDim          head width (explicit: heads·headDim may differ from d)
 * @param vocabSize        vocabulary size
 * @param contextLength    trained context (max_position_embeddings)
 * @param rmsNormEps       RMSNorm epsilon
 * @param ropeTheta        RoPE base of global layers (rope_theta)
 * @param ropeLocalTheta   RoPE base of sliding layers (Gemma 3 rope_local_base_freq; = ropeTheta for Gemma 2)
 * @param ropeLinearFactor linear RoPE scaling factor of global layers (1 = none)
 * @param attnScale        score scale τ (query_pre_attn_scalar^(−1/2))
 * @param attnSoftcap      attention-logit soft-cap, 0 = none
 * @param finalSoftcap     final-logit soft-cap, 0 = none
 * @param slidingWindow    window W of sliding layers
 * @param slidingLayers    per layer: true if it uses the sliding window
 * @param offsetNorms      norm gains are stored as w with gain 1 + w (HF); false when the gain is stored (GGUF)
 */
public record GemmaConfig(int version, int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim,
                          int vocabSize, int contextLength, float rmsNormEps, double ropeTheta, double ropeLocalTheta,
                          double ropeLinearFactor, float attnScale, float attnSoftcap, float finalSoftcap,
                          int slidingWindow, List<Boolean> slidingLayers, boolean offsetNorms) {

    /**
     * Validates version, sizes and head geometry.
     *
     * @throws IllegalArgumentException if version is not 2 or 3, a size is below 1, or kvHeads does not divide heads
     */
    public GemmaConfig {
        if (version != 2 && version != 3) {
            throw new IllegalArgumentException("Gemma version must be 2 or 3, got " + version);
        }
        DecoderSizes.check("Gemma", dim, hiddenDim, layers, heads, kvHeads, headDim, vocabSize, contextLength);
        slidingLayers = List.copyOf(slidingLayers);
        if (slidingLayers.size() != layers) {
            throw new IllegalArgumentException("slidingLayers has " + slidingLayers.size() + " entries for " + layers
                    + " layers");
        }
        if (slidingLayers.contains(true) && slidingWindow < 1) {
            throw new IllegalArgumentException("sliding layers need sliding_window >= 1, got " + slidingWindow);
        }
        if (!(attnScale > 0) || !(attnSoftcap >= 0) || !(finalSoftcap >= 0) || !(rmsNormEps >= 0)
                || !(ropeLinearFactor > 0)) {
            throw new IllegalArgumentException("Gemma config: need attnScale > 0, softcaps >= 0, eps >= 0, rope factor"
                    + " > 0, got " + attnScale + ", " + attnSoftcap + ", " + finalSoftcap + ", " + rmsNormEps + ", "
                    + ropeLinearFactor);
        }
    }

    /** Gemma 2 slides on even layers; Gemma 3 on every layer but each sixth (pattern p: (l + 1) mod p != 0). */
    static List<Boolean> pattern(int version, int layers, int period) {
        List<Boolean> out = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            out.add(version == 2 ? l % 2 == 0 : (l + 1) % period != 0);
        }
        return out;
    }

    /**
     * Maps an HF {@code config.json} (model_type gemma2, gemma3_text, or gemma3 with a nested
     * {@code text_config}) to a config with offset (1 + w) norms.
     *
     * @throws IllegalArgumentException for a missing key or an unsupported setting (names the key)
     */
    public static GemmaConfig fromHuggingFace(JsonObject json) {
        JsonObject c = HfJson.getObject(json, "text_config") != null ? HfJson.getObject(json, "text_config") : json;
        String type = HfJson.getString(json, "model_type", HfJson.getString(c, "model_type", ""));
        int version = type.startsWith("gemma3") ? 3 : type.equals("gemma2") ? 2 : -1;
        if (version < 0) {
            throw new IllegalArgumentException("config.json: model_type '" + type + "' is not gemma2/gemma3");
        }
        String act = HfJson.getString(c, "hidden_activation", HfJson.getString(c, "hidden_act", "gelu_pytorch_tanh"));
        if (!act.equals("gelu_pytorch_tanh") && !act.equals("gelu_new")) {
            throw new IllegalArgumentException("config.json: hidden_activation '" + act
                    + "' is not supported (Gemma uses gelu_pytorch_tanh)");
        }
        int dim = HfJson.requireInt(c, "hidden_size");
        int heads = HfJson.requireInt(c, "num_attention_heads");
        int headDim = HfJson.getInt(c, "head_dim", dim / heads);
        int layers = HfJson.requireInt(c, "num_hidden_layers");
        List<Boolean> sliding;
        if (c.has("layer_types") && c.get("layer_types").isJsonArray()) {
            sliding = new ArrayList<>();
            for (var e : c.getAsJsonArray("layer_types")) {
                String t = e.getAsString();
                if (!t.equals("sliding_attention") && !t.equals("full_attention")) {
                    throw new IllegalArgumentException("config.json: layer_types entry '" + t + "' unknown");
                }
                sliding.add(t.equals("sliding_attention"));
            }
        } else {
            sliding = pattern(version, layers, HfJson.getInt(c, "sliding_window_pattern", 6));
        }
        // RoPE: rope_theta + rope_scaling (+ Gemma 3 rope_local_base_freq), or the newer rope_parameters, either
        // one dict or one per layer type ("full_attention", "sliding_attention")
        double theta = HfJson.getDouble(c, "rope_theta", 10000.0);
        double localTheta = HfJson.getDouble(c, "rope_local_base_freq", 10000.0);
        double factor = linearFactor(HfJson.getObject(c, "rope_scaling"));
        JsonObject rp = HfJson.getObject(c, "rope_parameters");
        if (rp != null) {
            JsonObject full = HfJson.getObject(rp, "full_attention") != null ? HfJson.getObject(rp, "full_attention") : rp;
            theta = HfJson.getDouble(full, "rope_theta", theta);
            factor = linearFactor(full);
            JsonObject local = HfJson.getObject(rp, "sliding_attention");
            if (local != null) {
                localTheta = HfJson.getDouble(local, "rope_theta", localTheta);
                if (linearFactor(local) != 1.0) {
                    throw new IllegalArgumentException("config.json: rope_parameters.sliding_attention scaling is not"
                            + " supported");
                }
            }
        }
        float qpas = (float) HfJson.getDouble(c, "query_pre_attn_scalar", headDim);
        return new GemmaConfig(version, dim, HfJson.requireInt(c, "intermediate_size"), layers, heads,
                HfJson.getInt(c, "num_key_value_heads", heads), headDim, HfJson.requireInt(c, "vocab_size"),
                HfJson.getInt(c, "max_position_embeddings", 8192), (float) HfJson.getDouble(c, "rms_norm_eps", 1e-6),
                theta, version == 3 ? localTheta : theta, factor,
                (float) (1.0 / Math.sqrt(qpas)), (float) HfJson.getDouble(c, "attn_logit_softcapping", 0),
                (float) HfJson.getDouble(c, "final_logit_softcapping", 0), HfJson.getInt(c, "sliding_window", 0),
                sliding, true);
    }

    // factor of a "linear" rope_scaling/rope_parameters dict, 1 for none/"default"
    private static double linearFactor(JsonObject rs) {
        if (rs == null) {
            return 1.0;
        }
        String rt = HfJson.getString(rs, "rope_type", HfJson.getString(rs, "type", "default"));
        if (rt.equals("linear")) {
            return HfJson.getDouble(rs, "factor", 1.0);
        }
        if (!rt.equals("default")) {
            throw new IllegalArgumentException("config.json: rope type '" + rt + "' is not supported for Gemma (linear"
                    + " only)");
        }
        return 1.0;
    }

    /**
     * Reads {@code gemma2.*} / {@code gemma3.*} GGUF metadata the way llama.cpp does: norms hold the
     * full gain (the converter added 1); τ = 1/sqrt(headDim), except 1/sqrt(d/heads) for the 27B sizes
     * (46 layers Gemma 2, 62 layers Gemma 3), because GGUF does not store query_pre_attn_scalar;
     * Gemma 3 local layers use RoPE base 10000 and a sliding period of 6 unless
     * {@code gemma3.attention.sliding_window_pattern} says otherwise.
     */
    public static GemmaConfig fromGguf(GgufFile f) throws ModelFormatException {
        String arch = f.requireArchitecture(List.of("gemma2", "gemma3"));
        int version = arch.equals("gemma2") ? 2 : 3;
        String p = arch + ".";
        try {
            int dim = f.requireInt(p + "embedding_length");
            int heads = f.requireInt(p + "attention.head_count");
            int headDim = f.getInt(p + "attention.key_length", dim / heads);
            int layers = f.requireInt(p + "block_count");
            boolean big = layers == (version == 2 ? 46 : 62);
            float scale = (float) (1.0 / Math.sqrt(big ? (double) dim / heads : headDim));
            int vocab = f.contains("token_embd.weight") ? f.info("token_embd.weight").shape().dim(0) : 0;
            double factor = 1.0;
            String scaling = f.getString(p + "rope.scaling.type");
            if ("linear".equals(scaling)) {
                factor = f.getFloat(p + "rope.scaling.factor", 1f);
            } else if (scaling != null && !"none".equals(scaling)) {
                throw new ModelFormatException(f.path(), -1, "metadata '" + p + "rope.scaling.type'", "none or linear",
                        scaling);
            }
            double theta = f.getFloat(p + "rope.freq_base", 10000f);
            return new GemmaConfig(version, dim, f.requireInt(p + "feed_forward_length"), layers, heads,
                    f.getInt(p + "attention.head_count_kv", heads), headDim, vocab,
                    f.getInt(p + "context_length", 8192), f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-6f),
                    theta, version == 3 ? 10000.0 : theta, factor, scale,
                    f.getFloat(p + "attn_logit_softcapping", 0f), f.getFloat(p + "final_logit_softcapping", 0f),
                    f.getInt(p + "attention.sliding_window", 0),
                    pattern(version, layers, f.getInt(p + "attention.sliding_window_pattern", 6)), false);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(f.path(), -1, arch + " config", "consistent hyperparameters", e.getMessage(),
                    e);
        }
    }

    /** Query width heads·headDim. */
    public int qDim() {
        return heads * headDim;
    }

    /** Key/value width kvHeads·headDim. */
    public int kvDim() {
        return kvHeads * headDim;
    }
}
