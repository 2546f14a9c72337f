package dev.interlayer.models.bert;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.OnnxModel;
import dev.interlayer.models.io.OnnxWeights;
import dev.interlayer.models.io.WeightSource;
import java.util.List;

/**
 * Hyperparameters of a BERT encoder (post-LayerNorm blocks, absolute learned positions, exact GELU).
 *
 * @param vocabSize     word-piece vocabulary size
 * @param hidden        model width H
 * @param layers        number of encoder blocks
 * @param heads         attention heads (H divisible by it)
 * @param intermediate  feed-forward width
 * @param maxPositions  rows of the position embedding table (longest input)
 * @param typeVocabSize rows of the token-type (segment) embedding table
 * @param layerNormEps  epsilon of every LayerNorm
 */
public record BertConfig(int vocabSize, int hidden, int layers, int heads, int intermediate, int maxPositions,
                         int typeVocabSize, float layerNormEps) {
    /**
     * Validates the sizes.
     *
     * @throws IllegalArgumentException if a size is below 1, the hidden size is not divisible by the heads, or
     *                                  layerNormEps is not positive
     */
    public BertConfig {
        if (vocabSize < 1 || hidden < 1 || layers < 1 || heads < 1 || intermediate < 1 || maxPositions < 1
                || typeVocabSize < 1) {
            throw new IllegalArgumentException("BERT config sizes must be >= 1: " + sizes(vocabSize, hidden, layers,
                    heads, intermediate, maxPositions, typeVocabSize));
        }
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("hidden size " + hidden + " not divisible by heads " + heads);
        }
        if (!(layerNormEps > 0)) {
            throw new IllegalArgumentException("layer_norm_eps must be > 0, got " + layerNormEps);
        }
    }

    private static String sizes(int... v) {
        return java.util.Arrays.toString(v);
    }

    /** Width of one head, H / heads. */
    public int headDim() {
        return hidden / heads;
    }

    /**
     * From a Hugging Face {@code config.json} (keys {@code vocab_size}, {@code hidden_size},
     * {@code num_hidden_layers}, {@code num_attention_heads}, {@code intermediate_size},
     * {@code max_position_embeddings}, {@code type_vocab_size}, {@code layer_norm_eps}).
     *
     * @throws IllegalArgumentException if a key is missing, or the activation / position type is not
     *                                  the exact-GELU, absolute-position BERT this package implements
     */
    public static BertConfig fromHuggingFace(JsonObject c) {
        String act = c.has("hidden_act") ? c.get("hidden_act").getAsString() : "gelu";
        if (!act.equals("gelu")) {
            throw new IllegalArgumentException("config.json: hidden_act '" + act + "' not supported (only 'gelu', exact erf)");
        }
        if (c.has("position_embedding_type") && !c.get("position_embedding_type").getAsString().equals("absolute")) {
            throw new IllegalArgumentException("config.json: position_embedding_type '"
                    + c.get("position_embedding_type").getAsString() + "' not supported (only 'absolute')");
        }
        return new BertConfig(intKey(c, "vocab_size"), intKey(c, "hidden_size"), intKey(c, "num_hidden_layers"),
                intKey(c, "num_attention_heads"), intKey(c, "intermediate_size"), intKey(c, "max_position_embeddings"),
                c.has("type_vocab_size") ? intKey(c, "type_vocab_size") : 2,
                c.has("layer_norm_eps") ? c.get("layer_norm_eps").getAsFloat() : 1e-12f);
    }

    private static int intKey(JsonObject c, String key) {
        JsonElement e = c.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException("config.json: missing or non-numeric '" + key + "'");
        }
        return e.getAsInt();
    }

    /**
     * From llama.cpp GGUF metadata of architecture {@code bert}: {@code bert.embedding_length} → hidden,
     * {@code bert.block_count} → layers, {@code bert.attention.head_count} → heads,
     * {@code bert.feed_forward_length} → intermediate, {@code bert.context_length} → maxPositions,
     * {@code bert.attention.layer_norm_epsilon} → layerNormEps (default 1e-12); the vocabulary and
     * token-type counts are the row counts of {@code token_embd.weight} and {@code token_types.weight}
     * (GGUF stores no key for them). The pooling ({@code bert.pooling_type}) is not part of the encoder;
     * {@code EmbeddingModel} reads it.
     *
     * @throws ModelFormatException if the architecture is not {@code bert}, a key or tensor is missing,
     *                              {@code bert.attention.causal} is true, or the sizes are inconsistent
     */
    public static BertConfig fromGguf(GgufFile f) throws ModelFormatException {
        f.requireArchitecture(List.of("bert"));
        if (f.getBoolean("bert.attention.causal", false)) {
            throw new ModelFormatException(f.path(), -1, "metadata 'bert.attention.causal'",
                    "false (a bidirectional encoder)", "true");
        }
        try {
            return new BertConfig(rows(f, "token_embd.weight"), f.requireInt("bert.embedding_length"),
                    f.requireInt("bert.block_count"), f.requireInt("bert.attention.head_count"),
                    f.requireInt("bert.feed_forward_length"), f.requireInt("bert.context_length"),
                    rows(f, "token_types.weight"), f.getFloat("bert.attention.layer_norm_epsilon", 1e-12f));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(f.path(), -1, "bert config", "consistent hyperparameters", e.getMessage(), e);
        }
    }

    private static int rows(GgufFile f, String tensor) throws ModelFormatException {
        if (!f.contains(tensor)) {
            throw new ModelFormatException(f.path(), -1, "tensor '" + tensor + "'", "present", "absent");
        }
        return f.info(tensor).shape().dim(0);
    }

    /**
     * From an ONNX export of Hugging Face {@code BertModel}, which has no config: sizes come from the
     * weight shapes, the head width from the attention score divisor √d (node
     * {@code /encoder/layer.0/attention/self/Div}), the LayerNorm epsilon from the constant added to
     * the variance in {@code /embeddings/LayerNorm/Add}.
     *
     * @throws IllegalArgumentException if the graph lacks these nodes or weights
     */
    public static BertConfig fromOnnx(OnnxWeights w) {
        String p = BertModel.prefix(w);
        int[] word = dims(w, p + "embeddings.word_embeddings.weight");
        int[] pos = dims(w, p + "embeddings.position_embeddings.weight");
        int[] type = dims(w, p + "embeddings.token_type_embeddings.weight");
        int[] inter = dims(w, p + "encoder.layer.0.intermediate.dense.weight");
        int layers = 0;
        while (w.contains(p + "encoder.layer." + layers + ".attention.self.query.weight")) {
            layers++;
        }
        float sqrtD = constantInput(w.model(), "/encoder/layer.0/attention/self/Div");
        int headDim = Math.round(sqrtD * sqrtD);
        if (headDim < 1 || Math.abs(Math.sqrt(headDim) - sqrtD) > 1e-3 || word[1] % headDim != 0) {
            throw new IllegalArgumentException(w.model().file().getFileName() + ": attention divisor " + sqrtD
                    + " is not the square root of a head width dividing " + word[1]);
        }
        float eps = constantInput(w.model(), "/embeddings/LayerNorm/Add");
        return new BertConfig(word[0], word[1], layers, word[1] / headDim, inter[0], pos[0], type[0], eps);
    }

    private static int[] dims(WeightSource w, String name) {
        return w.tensor(name).shape().dims();
    }

    /** The scalar constant among the inputs of node {@code nodeName} (a Constant node or an initializer). */
    private static float constantInput(OnnxModel m, String nodeName) {
        OnnxModel.Node node = m.nodes().stream().filter(n -> n.name().equals(nodeName)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(m.file().getFileName() + ": no node '" + nodeName
                        + "' (not a Hugging Face BERT export?)"));
        for (String in : node.inputs()) {
            if (m.initializers().containsKey(in) && m.initializers().get(in).elements() == 1) {
                return m.tensor(in).toFloatArray()[0];
            }
            for (OnnxModel.Node c : m.nodes()) {
                if (c.opType().equals("Constant") && c.outputs().contains(in) && c.attributes().containsKey("value")) {
                    OnnxModel.TensorInfo t = c.attributes().get("value").t();
                    if (t != null && t.elements() == 1) {
                        return m.toTensor(t).toFloatArray()[0];
                    }
                }
            }
        }
        throw new IllegalArgumentException(m.file().getFileName() + ": node '" + nodeName + "' has no scalar constant input");
    }
}
