package dev.interlayer.models.llama;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.tensor.Rope;

/**
 * Hyperparameters of a Llama-family decoder (Llama 1/2/3, Mistral, TinyLlama, Qwen2; Mixtral-style
 * mixture-of-experts when {@code experts > 0}).
 *
 * @param arch          GGUF architecture name ("llama", "qwen2", "qwen2moe", ...)
 * @param dim           residual width (n_embd)
 * @param hiddenDim     feed-forward width (n_ff); for MoE, one expert's width
 * @param layers        number of blocks
 * @param heads         query heads
 * @param kvHeads       key/value heads (GQA: heads % kvHeads == 0)
 * @param headDim       width of one head (usually dim / heads)
 * @param vocabSize     vocabulary size
 * @param contextLength trained context length
 * @param rmsNormEps    RMSNorm epsilon
 * @param ropeTheta     RoPE base frequency
 * @param ropeDim       rotated width of a head (≤ headDim)
 * @param ropePairing   INTERLEAVED for GGUF "llama" (llama.cpp permutes Q/K rows at conversion so
 *                      adjacent pairs rotate, rope type NORM); HALF_SPLIT for NEOX-style archs (qwen2)
 * @param ropeScale     linear RoPE scaling: positions are multiplied by this (1 = none)
 * @param experts       experts per MoE layer (0 = dense)
 * @param expertsUsed   experts routed per token (top-k)
 * @param sharedHiddenDim width of the always-on shared expert (Qwen2-MoE), 0 if none
 */
public record LlamaConfig(String arch, int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim,
                          int vocabSize, int contextLength, float rmsNormEps, float ropeTheta, int ropeDim,
                          Rope.Pairing ropePairing, float ropeScale, int experts, int expertsUsed,
                          int sharedHiddenDim) {

    public LlamaConfig {
        positive("dim", dim);
        positive("hiddenDim", hiddenDim);
        positive("layers", layers);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("headDim", headDim);
        positive("vocabSize", vocabSize);
        positive("contextLength", contextLength);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " not divisible by kvHeads " + kvHeads);
        }
        if (ropeDim <= 0 || ropeDim % 2 != 0 || ropeDim > headDim) {
            throw new IllegalArgumentException("ropeDim must be even and in (0, headDim=" + headDim + "], got " + ropeDim);
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0) || !(ropeScale > 0)) {
            throw new IllegalArgumentException("rmsNormEps, ropeTheta, ropeScale must be > 0, got " + rmsNormEps
                    + ", " + ropeTheta + ", " + ropeScale);
        }
        if (sharedHiddenDim < 0) {
            throw new IllegalArgumentException("sharedHiddenDim must be >= 0, got " + sharedHiddenDim);
        }
        if (experts < 0 || expertsUsed < 0 || expertsUsed > experts || (experts > 0 && expertsUsed == 0)) {
            throw new IllegalArgumentException("need 0 < expertsUsed <= experts for MoE, got " + expertsUsed + " of "
                    + experts);
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
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

    /** Query heads sharing one KV head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** Mixtral renormalises the top-k router probabilities to sum to 1; Qwen2-MoE does not. */
    public boolean moeNormalizesTopK() {
        return !arch.equals("qwen2moe");
    }

    /** The RoPE of one head. */
    public Rope rope() {
        return Rope.standard(headDim, ropeDim, ropeTheta, ropePairing);
    }

    /**
     * Reads the config from GGUF metadata: {@code <arch>.embedding_length}, {@code .block_count},
     * {@code .attention.head_count(_kv)}, {@code .feed_forward_length} (or {@code .expert_feed_forward_length}),
     * {@code .context_length}, {@code .attention.layer_norm_rms_epsilon}, {@code .rope.freq_base},
     * {@code .rope.dimension_count}, {@code .attention.key_length}, {@code .rope.scaling.*},
     * {@code .expert_count}, {@code .expert_used_count}; vocab from {@code tokenizer.ggml.tokens} or the
     * embedding rows.
     */
    public static LlamaConfig fromGguf(GgufFile f) throws ModelFormatException {
        String arch = f.architecture();
        if (arch == null || !LlamaModel.SUPPORTED_ARCHS.contains(arch)) {
            throw new ModelFormatException(f.path(), -1, "metadata 'general.architecture'",
                    "one of " + LlamaModel.SUPPORTED_ARCHS, String.valueOf(arch));
        }
        String p = arch + ".";
        try {
            int dim = require(f, p + "embedding_length");
            int heads = require(f, p + "attention.head_count");
            int kvHeads = f.getInt(p + "attention.head_count_kv", heads);
            int headDim = f.getInt(p + "attention.key_length", dim / heads);
            int experts = f.getInt(p + "expert_count", 0);
            int hidden = experts > 0 && f.get(p + "expert_feed_forward_length") != null
                    ? f.getInt(p + "expert_feed_forward_length", 0) : require(f, p + "feed_forward_length");
            int vocab;
            String[] tokens = f.getArray("tokenizer.ggml.tokens", String[].class);
            if (f.contains("token_embd.weight")) {
                vocab = f.info("token_embd.weight").shape().dim(0);
            } else if (tokens != null) {
                vocab = tokens.length;
            } else {
                vocab = f.getInt(p + "vocab_size", 0);
            }
            float ropeScale = 1f;
            String scaling = f.getString(p + "rope.scaling.type");
            if ("linear".equals(scaling)) {
                ropeScale = 1f / f.getFloat(p + "rope.scaling.factor", 1f);
            } else if (scaling != null && !"none".equals(scaling)) {
                throw new ModelFormatException(f.path(), -1, "metadata '" + p + "rope.scaling.type'",
                        "none or linear", scaling);
            }
            Rope.Pairing pairing = arch.startsWith("qwen") ? Rope.Pairing.HALF_SPLIT : Rope.Pairing.INTERLEAVED;
            return new LlamaConfig(arch, dim, hidden, require(f, p + "block_count"), heads, kvHeads, headDim, vocab,
                    f.getInt(p + "context_length", 2048),
                    f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                    f.getFloat(p + "rope.freq_base", 10000f),
                    f.getInt(p + "rope.dimension_count", headDim), pairing, ropeScale, experts,
                    f.getInt(p + "expert_used_count", 0),
                    f.getInt(p + "expert_shared_feed_forward_length", 0));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(f.path(), -1, arch + " config", "consistent hyperparameters",
                    e.getMessage(), e);
        }
    }

    private static int require(GgufFile f, String key) throws ModelFormatException {
        if (f.get(key) == null) {
            throw new ModelFormatException(f.path(), -1, "metadata '" + key + "'", "present", "absent");
        }
        return f.getInt(key, 0);
    }
}
