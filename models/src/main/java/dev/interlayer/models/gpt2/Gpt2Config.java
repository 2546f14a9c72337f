package dev.interlayer.models.gpt2;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.lm.HfJson;
import dev.interlayer.nn.Activation;
import java.util.List;

/**
 * Hyperparameters of a GPT-2 decoder.
 *
 * @param dim          residual width (n_embd)
 * @param hiddenDim    MLP width (n_inner, default 4·n_embd)
 * @param layers       number of blocks (n_layer)
 * @param heads        attention heads (n_head; no GQA)
 * @param vocabSize    vocabulary size
 * @param maxPositions rows of the learned position table (n_positions): the context length
 * @param layerNormEps LayerNorm epsilon
 * @param activation   MLP activation (gelu_new = GELU_TANH; gelu = GELU_ERF)
 */
public record Gpt2Config(int dim, int hiddenDim, int layers, int heads, int vocabSize, int maxPositions,
                         float layerNormEps, Activation activation) {
    /**
     * Validates the sizes.
     *
     * @throws IllegalArgumentException if a size is below 1 or the hidden size is not divisible by the heads
     */
    public Gpt2Config {
        for (int v : new int[] {dim, hiddenDim, layers, heads, vocabSize, maxPositions}) {
            if (v < 1) {
                throw new IllegalArgumentException("GPT-2 config: sizes must be >= 1, got n_embd " + dim + ", n_inner "
                        + hiddenDim + ", n_layer " + layers + ", n_head " + heads + ", vocab " + vocabSize
                        + ", n_positions " + maxPositions);
            }
        }
        if (dim % heads != 0) {
            throw new IllegalArgumentException("n_embd " + dim + " not divisible by n_head " + heads);
        }
    }

    /** Head width n_embd / n_head. */
    public int headDim() {
        return dim / heads;
    }

    /**
     * Maps HF {@code config.json} (model_type gpt2).
     *
     * @throws IllegalArgumentException for missing keys or unsupported options (scale_attn_by_inverse_layer_idx,
     *                                  reorder_and_upcast_attn, unscaled attention, unknown activation)
     */
    public static Gpt2Config fromHuggingFace(JsonObject c) {
        String type = HfJson.getString(c, "model_type", "");
        if (!type.equals("gpt2")) {
            throw new IllegalArgumentException("config.json: model_type '" + type + "' is not gpt2");
        }
        if (HfJson.getBoolean(c, "scale_attn_by_inverse_layer_idx", false)
                || !HfJson.getBoolean(c, "scale_attn_weights", true)) {
            throw new IllegalArgumentException("config.json: scale_attn_by_inverse_layer_idx / scale_attn_weights=false"
                    + " are not supported");
        }
        String act = HfJson.getString(c, "activation_function", "gelu_new");
        Activation a = switch (act) {
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> Activation.GELU_TANH;
            case "gelu" -> Activation.GELU_ERF;
            case "relu" -> Activation.RELU;
            default -> throw new IllegalArgumentException("config.json: activation_function '" + act
                    + "' is not supported");
        };
        int dim = HfJson.requireInt(c, "n_embd");
        return new Gpt2Config(dim, HfJson.getInt(c, "n_inner", 4 * dim), HfJson.requireInt(c, "n_layer"),
                HfJson.requireInt(c, "n_head"), HfJson.requireInt(c, "vocab_size"),
                HfJson.getInt(c, "n_positions", 1024), (float) HfJson.getDouble(c, "layer_norm_epsilon", 1e-5),
                a);
    }

    /** Reads {@code gpt2.*} GGUF metadata (llama.cpp uses the tanh GELU for gpt2). */
    public static Gpt2Config fromGguf(GgufFile f) throws ModelFormatException {
        f.requireArchitecture(List.of("gpt2"));
        String p = "gpt2.";
        try {
            return new Gpt2Config(f.requireInt(p + "embedding_length"), f.requireInt(p + "feed_forward_length"),
                    f.requireInt(p + "block_count"), f.requireInt(p + "attention.head_count"),
                    f.contains("token_embd.weight") ? f.info("token_embd.weight").shape().dim(0) : 0,
                    f.contains("position_embd.weight") ? f.info("position_embd.weight").shape().dim(0)
                            : f.getInt(p + "context_length", 1024),
                    f.getFloat(p + "attention.layer_norm_epsilon", 1e-5f), Activation.GELU_TANH);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(f.path(), -1, "gpt2 config", "consistent hyperparameters", e.getMessage(), e);
        }
    }
}
