package dev.interlayer.models.olmo;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.lm.DecoderSizes;
import dev.interlayer.models.lm.HfJson;
import java.util.List;

/**
 * Hyperparameters of an OLMo 2 decoder: output-only norms x' = x + N_out(F(x)), and "flat" QK-norm (q normalized
 * over its full width Hq·dh before the head split, k over Hkv·dh).
 *
 * @param dim           residual width d
 * @param hiddenDim     SwiGLU width
 * @param layers        number of blocks
 * @param heads         query heads
 * @param kvHeads       key/value heads
 * @param headDim       head width
 * @param vocabSize     vocabulary size
 * @param contextLength trained context
 * @param rmsNormEps    RMSNorm epsilon (also of the QK-norms)
 * @param ropeTheta     RoPE base (half-split pairs in HF and GGUF alike)
 */
public record Olmo2Config(int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim, int vocabSize,
                          int contextLength, float rmsNormEps, double ropeTheta) {
    /**
     * Validates the sizes.
     *
     * @throws IllegalArgumentException if a size is below 1 or kvHeads does not divide heads
     */
    public Olmo2Config {
        DecoderSizes.check("OLMo 2", dim, hiddenDim, layers, heads, kvHeads, headDim, vocabSize, contextLength);
    }

    /** Query width heads·headDim. */
    public int qDim() {
        return heads * headDim;
    }

    /** Key/value width kvHeads·headDim. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /**
     * Maps HF {@code config.json} (model_type olmo2).
     *
     * @throws IllegalArgumentException for missing keys or unsupported settings (rope_scaling, clip_qkv, biases)
     */
    public static Olmo2Config fromHuggingFace(JsonObject c) {
        String type = HfJson.getString(c, "model_type", "");
        if (!type.equals("olmo2")) {
            throw new IllegalArgumentException("config.json: model_type '" + type + "' is not olmo2");
        }
        if (HfJson.has(c, "rope_scaling") || HfJson.has(c, "clip_qkv") || HfJson.getBoolean(c, "attention_bias", false)) {
            throw new IllegalArgumentException("config.json: rope_scaling, clip_qkv and attention_bias are not supported"
                    + " for OLMo 2");
        }
        String act = HfJson.getString(c, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("config.json: hidden_act '" + act + "' is not supported (silu only)");
        }
        int dim = HfJson.requireInt(c, "hidden_size");
        int heads = HfJson.requireInt(c, "num_attention_heads");
        return new Olmo2Config(dim, HfJson.requireInt(c, "intermediate_size"), HfJson.requireInt(c, "num_hidden_layers"),
                heads, HfJson.getInt(c, "num_key_value_heads", heads), HfJson.getInt(c, "head_dim", dim / heads),
                HfJson.requireInt(c, "vocab_size"), HfJson.getInt(c, "max_position_embeddings", 4096),
                (float) HfJson.getDouble(c, "rms_norm_eps", 1e-6), HfJson.getDouble(c, "rope_theta", 10000.0));
    }

    /** Reads {@code olmo2.*} GGUF metadata. */
    public static Olmo2Config fromGguf(GgufFile f) throws ModelFormatException {
        f.requireArchitecture(List.of("olmo2"));
        String p = "olmo2.";
        try {
            int dim = f.requireInt(p + "embedding_length");
            int heads = f.requireInt(p + "attention.head_count");
            String scaling = f.getString(p + "rope.scaling.type");
            if (scaling != null && !"none".equals(scaling)) {
                throw new ModelFormatException(f.path(), -1, "metadata '" + p + "rope.scaling.type'", "none", scaling);
            }
            return new Olmo2Config(dim, f.requireInt(p + "feed_forward_length"), f.requireInt(p + "block_count"), heads,
                    f.getInt(p + "attention.head_count_kv", heads), f.getInt(p + "attention.key_length", dim / heads),
                    f.contains("token_embd.weight") ? f.info("token_embd.weight").shape().dim(0) : 0,
                    f.getInt(p + "context_length", 4096), f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-6f),
                    f.getFloat(p + "rope.freq_base", 10000f));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(f.path(), -1, "olmo2 config", "consistent hyperparameters", e.getMessage(), e);
        }
    }
}
