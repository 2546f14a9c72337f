package dev.interlayer.models.llama;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.lm.HfJson;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.RopeConfig;
import dev.interlayer.nn.RopeScaling;
import dev.interlayer.tensor.Rope;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hyperparameters of a Llama-family decoder (Llama 1/2/3, Mistral, TinyLlama, Qwen2; Mixtral and Qwen2-MoE
 * mixture-of-experts when {@code experts > 0}, each layer sparse unless listed in {@code denseLayers}; optional
 * sliding-window attention on the layers in {@code windowLayers}).
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
 * @param ropeScaling   frequency rescaling from HF {@code rope_scaling} (None or Llama3; GGUF stores Llama 3
 *                      scaling as the {@code rope_freqs} tensor instead, so GGUF configs carry None)
 * @param moeNormTopK   MoE: renormalise the top-k router probabilities to sum to 1 (Mixtral; Qwen2-MoE's
 *                      {@code norm_topk_prob}, false in its checkpoints); ignored when dense
 * @param denseHiddenDim width of a dense SwiGLU layer: hiddenDim for dense models; for MoE models the width
 *                      of the layers in denseLayers (Qwen2-MoE {@code intermediate_size})
 * @param denseLayers   MoE models: indices of the layers with a dense MLP instead of experts (Qwen2-MoE
 *                      {@code decoder_sparse_step}, {@code mlp_only_layers}); empty when dense or all sparse
 * @param slidingWindow attention window w of the windowed layers: key j is visible to query i iff
 *                      i − w &lt; j ≤ i (HF and llama.cpp convention); 0 = none
 * @param windowLayers  indices of the layers that use the window (Mistral: all; Qwen2: those ≥
 *                      {@code max_window_layers}); empty when slidingWindow is 0
 */
public record LlamaConfig(String arch, int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim,
                          int vocabSize, int contextLength, float rmsNormEps, float ropeTheta, int ropeDim,
                          Rope.Pairing ropePairing, float ropeScale, int experts, int expertsUsed,
                          int sharedHiddenDim, RopeScaling ropeScaling, boolean moeNormTopK, int denseHiddenDim,
                          Set<Integer> denseLayers, int slidingWindow, Set<Integer> windowLayers) {

    /** A config with every layer dense (experts = 0) or every layer sparse, and no sliding window. */
    public LlamaConfig(String arch, int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim,
                       int vocabSize, int contextLength, float rmsNormEps, float ropeTheta, int ropeDim,
                       Rope.Pairing ropePairing, float ropeScale, int experts, int expertsUsed,
                       int sharedHiddenDim, RopeScaling ropeScaling, boolean moeNormTopK) {
        this(arch, dim, hiddenDim, layers, heads, kvHeads, headDim, vocabSize, contextLength, rmsNormEps, ropeTheta,
                ropeDim, ropePairing, ropeScale, experts, expertsUsed, sharedHiddenDim, ropeScaling, moeNormTopK,
                hiddenDim, Set.of(), 0, Set.of());
    }

    /**
     * Validates sizes and derived geometry.
     *
     * @throws IllegalArgumentException if a size is below 1, kvHeads does not divide heads, ropeDim is odd or above headDim,
     *                                  an eps/theta/scale is not positive, ropeScaling is not None or Llama3, the MoE
     *                                  counts are inconsistent, or a dense/window layer index is out of range
     */
    public LlamaConfig {
        positive("dim", dim);
        positive("hiddenDim", hiddenDim);
        positive("layers", layers);
        positive("vocabSize", vocabSize);
        // headDim first: the attention builder reads 0 as "derive it from dim / heads", which would hide a file's 0
        positive("headDim", headDim);
        // heads, kvHeads, contextLength >= 1 and kvHeads | heads: checked by the attention they describe
        AttentionConfig.builder(dim, heads, contextLength).kvHeads(kvHeads).headDim(headDim).build();
        if (ropeDim <= 0 || ropeDim % 2 != 0 || ropeDim > headDim) {
            throw new IllegalArgumentException("ropeDim must be even and in (0, headDim=" + headDim + "], got " + ropeDim);
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0) || !(ropeScale > 0)) {
            throw new IllegalArgumentException("rmsNormEps, ropeTheta, ropeScale must be > 0, got " + rmsNormEps
                    + ", " + ropeTheta + ", " + ropeScale);
        }
        if (ropeScaling == null || !(ropeScaling instanceof RopeScaling.None
                || ropeScaling instanceof RopeScaling.Llama3)) {
            throw new IllegalArgumentException("ropeScaling must be None or Llama3 (linear scaling is ropeScale), got "
                    + ropeScaling);
        }
        if (sharedHiddenDim < 0) {
            throw new IllegalArgumentException("sharedHiddenDim must be >= 0, got " + sharedHiddenDim);
        }
        if (experts < 0 || expertsUsed < 0 || expertsUsed > experts || (experts > 0 && expertsUsed == 0)) {
            throw new IllegalArgumentException("need 0 < expertsUsed <= experts for MoE, got " + expertsUsed + " of "
                    + experts);
        }
        positive("denseHiddenDim", denseHiddenDim);
        denseLayers = layerSet("denseLayers", denseLayers, layers);
        windowLayers = layerSet("windowLayers", windowLayers, layers);
        if (experts == 0 && !denseLayers.isEmpty()) {
            throw new IllegalArgumentException("denseLayers " + denseLayers + " given for a dense model (experts 0)");
        }
        if (slidingWindow < 0 || (slidingWindow == 0) != windowLayers.isEmpty()) {
            throw new IllegalArgumentException("slidingWindow must be >= 0 and > 0 exactly when windowLayers is"
                    + " non-empty, got " + slidingWindow + " with windowLayers " + windowLayers);
        }
    }

    // an immutable sorted copy, every index in [0, layers)
    private static Set<Integer> layerSet(String name, Set<Integer> s, int layers) {
        if (s == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        for (Integer i : s) {
            if (i == null || i < 0 || i >= layers) {
                throw new IllegalArgumentException(name + " holds " + i + ", outside [0, " + layers + ")");
            }
        }
        return java.util.Collections.unmodifiableSortedSet(new TreeSet<>(s));
    }

    /** Whether layer i routes through the experts (MoE) rather than a dense SwiGLU of denseHiddenDim. */
    public boolean isSparse(int layer) {
        return experts > 0 && !denseLayers.contains(layer);
    }

    /** The sliding window of layer i (0 = full causal attention). */
    public int windowOf(int layer) {
        return windowLayers.contains(layer) ? slidingWindow : 0;
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }

    /**
     * The attention of layer {@code layer} without positions: heads query heads sharing kvHeads KV heads of width
     * headDim (grouped-query attention, Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer
     * Models from Multi-Head Checkpoints"), causal within the layer's sliding window capped at the context. Its
     * {@link AttentionConfig#qDim()} and {@link AttentionConfig#kvDim()} are the widths the projections are stored
     * in; {@link #attention(int, RopeConfig)} adds the rotary positions the model runs with.
     */
    public AttentionConfig attention(int layer) {
        return AttentionConfig.builder(dim, heads, contextLength).kvHeads(kvHeads).headDim(headDim)
                .window(Math.min(windowOf(layer), contextLength)).build();
    }

    /** {@link #attention(int)} with positions rotated by {@code rope} ({@link #ropeConfig(float[])}). */
    public AttentionConfig attention(int layer, RopeConfig rope) {
        return attention(layer).toBuilder().rope(rope).build();
    }

    /** Whether MoE layers renormalise the top-k router probabilities to sum to 1 (see {@link #moeNormTopK}). */
    public boolean moeNormalizesTopK() {
        return moeNormTopK;
    }

    /**
     * The RoPE settings of every layer: base θ = ropeTheta over the first ropeDim dimensions of each head,
     * frequencies ω_i = θ^(−2i/ropeDim) rescaled by {@link #ropeScaling()} (Llama 3.1), divided per pair by
     * {@code divisors} when given (GGUF {@code rope_freqs}, llama.cpp's encoding of the same scaling), and
     * divided by 1/ropeScale for linear position interpolation.
     *
     * @param divisors [ropeDim/2] per-pair frequency divisors, or null
     * @throws IllegalArgumentException if divisors has the wrong length, Llama 3 scaling is combined with
     *                                  divisors or a linear scale, or ropeDim is not a width the rotary
     *                                  fraction ropeDim/headDim reproduces
     */
    public RopeConfig ropeConfig(float[] divisors) {
        double linear = 1.0 / ropeScale;
        boolean llama3 = ropeScaling instanceof RopeScaling.Llama3;
        if (llama3 && (divisors != null || ropeScale != 1f)) {
            throw new IllegalArgumentException("llama3 rope_scaling cannot be combined with rope_freqs or a linear"
                    + " scale (ropeScale " + ropeScale + ")");
        }
        RopeScaling s = divisors != null ? new RopeScaling.Divisors(divisors, linear)
                : llama3 ? ropeScaling
                : ropeScale != 1f ? new RopeScaling.Linear(linear) : new RopeScaling.None();
        RopeConfig rope = new RopeConfig(ropeTheta, ropePairing, ropeDim / (double) headDim, s);
        if (rope.rotaryDim(headDim) != ropeDim) {
            throw new IllegalArgumentException("rotary width " + ropeDim + " of head width " + headDim
                    + " is not representable as a rotary fraction");
        }
        rope.invFreq(headDim, 0);   // checks the divisor count now rather than when a session starts
        return rope;
    }

    /**
     * Reads the config from GGUF metadata: {@code <arch>.embedding_length}, {@code .block_count},
     * {@code .attention.head_count(_kv)}, {@code .feed_forward_length} (or {@code .expert_feed_forward_length}),
     * {@code .context_length}, {@code .attention.layer_norm_rms_epsilon}, {@code .rope.freq_base},
     * {@code .rope.dimension_count}, {@code .attention.key_length}, {@code .rope.scaling.*},
     * {@code .expert_count}, {@code .expert_used_count}, {@code .attention.sliding_window} (every layer; GGUF
     * has no per-layer window list for these archs); vocab from {@code tokenizer.ggml.tokens} or the
     * embedding rows. Whether a layer is sparse comes from its tensors: {@code blk.N.ffn_gate_inp.weight}
     * present → MoE, {@code blk.N.ffn_gate/up/down.weight} present → dense MLP of {@code .feed_forward_length}.
     *
     * @throws ModelFormatException if a required key is missing, the values are inconsistent, or a layer has
     *                              both or neither of the router and the dense FFN tensors
     */
    public static LlamaConfig fromGguf(GgufFile f) throws ModelFormatException {
        String arch = f.requireArchitecture(LlamaModel.SUPPORTED_ARCHS);
        String p = arch + ".";
        try {
            int dim = f.requireInt(p + "embedding_length");
            int heads = f.requireInt(p + "attention.head_count");
            int kvHeads = f.getInt(p + "attention.head_count_kv", heads);
            int headDim = f.getInt(p + "attention.key_length", dim / heads);
            int experts = f.getInt(p + "expert_count", 0);
            int hidden = experts > 0 && f.get(p + "expert_feed_forward_length") != null
                    ? f.getInt(p + "expert_feed_forward_length", 0) : f.requireInt(p + "feed_forward_length");
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
            int layers = f.requireInt(p + "block_count");
            Set<Integer> dense = ggufDenseLayers(f, layers, experts);
            int window = f.getInt(p + "attention.sliding_window", 0);
            Set<Integer> windowed = new TreeSet<>();
            for (int i = 0; window > 0 && i < layers; i++) {
                windowed.add(i);
            }
            return new LlamaConfig(arch, dim, hidden, layers, heads, kvHeads, headDim, vocab,
                    f.getInt(p + "context_length", 2048),
                    f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                    f.getFloat(p + "rope.freq_base", 10000f),
                    f.getInt(p + "rope.dimension_count", headDim), pairing, ropeScale, experts,
                    f.getInt(p + "expert_used_count", 0),
                    f.getInt(p + "expert_shared_feed_forward_length", 0), new RopeScaling.None(),
                    !arch.equals("qwen2moe"),       // llama.cpp: Mixtral (arch llama) renormalises, qwen2moe not
                    dense.isEmpty() ? hidden : f.requireInt(p + "feed_forward_length"), dense, Math.max(0, window),
                    windowed);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(f.path(), -1, arch + " config", "consistent hyperparameters",
                    e.getMessage(), e);
        }
    }

    /**
     * Maps a Hugging Face {@code config.json} (model_type llama, mistral, qwen2, mixtral or qwen2_moe) to a
     * config with half-split RoPE pairs (HF checkpoints are not row-permuted). {@code arch} becomes the
     * model_type ("qwen2moe" for qwen2_moe, the GGUF name). {@code contextLength} is
     * {@code max_position_embeddings}. Sliding window, as HF: Mistral/Mixtral {@code sliding_window} on every
     * layer; Qwen2/Qwen2-MoE only when {@code use_sliding_window}, on the layers marked
     * {@code "sliding_attention"} in {@code layer_types} or else on layers i ≥ {@code max_window_layers}
     * (HF default 28).
     *
     * <p>MoE keys: Mixtral {@code num_local_experts}, {@code num_experts_per_tok}, expert width
     * {@code intermediate_size}, top-k renormalised; Qwen2-MoE {@code num_experts}, {@code num_experts_per_tok},
     * {@code moe_intermediate_size}, {@code shared_expert_intermediate_size}, {@code norm_topk_prob} (default
     * false). Qwen2-MoE layer i is sparse iff {@code num_experts > 0}, (i + 1) % {@code decoder_sparse_step}
     * == 0 and i is not in {@code mlp_only_layers}; the others are dense MLPs of {@code intermediate_size}.
     *
     * @throws IllegalArgumentException naming the key for a missing or unsupported setting (rope_scaling
     *                                  other than linear/llama3, non-SiLU activation, partial rotary, experts on a
     *                                  dense model_type, a bad decoder_sparse_step/mlp_only_layers/layer_types)
     */
    public static LlamaConfig fromHuggingFace(JsonObject c) {
        String type = HfJson.getString(c, "model_type", "");
        if (!List.of("llama", "mistral", "qwen2", "mixtral", "qwen2_moe").contains(type)) {
            throw new IllegalArgumentException("config.json: model_type '" + type
                    + "' is not llama/mistral/qwen2/mixtral/qwen2_moe");
        }
        boolean mixtral = type.equals("mixtral"), qwenMoe = type.equals("qwen2_moe");
        if (!mixtral && !qwenMoe && (HfJson.has(c, "num_local_experts") || HfJson.has(c, "num_experts"))) {
            throw new IllegalArgumentException("config.json: model_type '" + type + "' with experts "
                    + "(num_local_experts/num_experts) is not supported; MoE needs model_type mixtral or qwen2_moe");
        }
        int layers = HfJson.requireInt(c, "num_hidden_layers");
        int experts = 0, expertsUsed = 0, sharedHidden = 0;
        boolean normTopK = false;
        int hidden, denseHidden;
        Set<Integer> dense = new TreeSet<>();
        if (mixtral) {
            experts = HfJson.requireInt(c, "num_local_experts");
            expertsUsed = HfJson.requireInt(c, "num_experts_per_tok");
            hidden = HfJson.requireInt(c, "intermediate_size");
            denseHidden = hidden;
            normTopK = true;
        } else if (qwenMoe && HfJson.getInt(c, "num_experts", 0) > 0) {
            experts = HfJson.requireInt(c, "num_experts");
            expertsUsed = HfJson.requireInt(c, "num_experts_per_tok");
            hidden = HfJson.requireInt(c, "moe_intermediate_size");
            sharedHidden = HfJson.getInt(c, "shared_expert_intermediate_size", 0);
            normTopK = HfJson.getBoolean(c, "norm_topk_prob", false);
            int step = HfJson.getInt(c, "decoder_sparse_step", 1);
            if (step < 1) {
                throw new IllegalArgumentException("config.json: decoder_sparse_step must be >= 1, got " + step);
            }
            Set<Integer> mlpOnly = intSet(c, "mlp_only_layers");     // layer indices kept dense
            for (int i = 0; i < layers; i++) {
                if ((i + 1) % step != 0 || mlpOnly.contains(i)) {
                    dense.add(i);
                }
            }
            denseHidden = dense.isEmpty() ? hidden : HfJson.requireInt(c, "intermediate_size");
        } else {                                                       // qwen2_moe with num_experts 0: all dense
            hidden = HfJson.requireInt(c, "intermediate_size");
            denseHidden = hidden;
        }
        String act = HfJson.getString(c, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("config.json: hidden_act '" + act + "' is not supported (silu only)");
        }
        if (HfJson.getDouble(c, "partial_rotary_factor", 1.0) != 1.0) {
            throw new IllegalArgumentException("config.json: partial_rotary_factor != 1 is not supported");
        }
        int dim = HfJson.requireInt(c, "hidden_size");
        int heads = HfJson.requireInt(c, "num_attention_heads");
        int headDim = HfJson.getInt(c, "head_dim", dim / heads);
        float ropeScale = 1f;
        RopeScaling scaling = new RopeScaling.None();
        JsonObject rs = HfJson.getObject(c, "rope_scaling");
        double theta = HfJson.getDouble(c, "rope_theta", 10000.0);
        JsonObject rp = HfJson.getObject(c, "rope_parameters");          // newer spelling: theta + scaling in one dict
        if (rp != null) {
            if (HfJson.getObject(rp, "full_attention") != null) {
                throw new IllegalArgumentException("config.json: per-layer-type rope_parameters are not supported for "
                        + type);
            }
            theta = HfJson.getDouble(rp, "rope_theta", theta);
            rs = rp;
        }
        if (rs != null) {
            String rt = HfJson.getString(rs, "rope_type", HfJson.getString(rs, "type", "default"));
            switch (rt) {
                case "default" -> { }
                case "linear" -> ropeScale = (float) (1.0 / HfJson.getDouble(rs, "factor", 1.0));
                case "llama3" -> scaling = new RopeScaling.Llama3(HfJson.getDouble(rs, "factor", 8.0),
                        HfJson.getDouble(rs, "low_freq_factor", 1.0), HfJson.getDouble(rs, "high_freq_factor", 4.0),
                        HfJson.requireInt(rs, "original_max_position_embeddings"));
                default -> throw new IllegalArgumentException("config.json: rope_scaling type '" + rt
                        + "' is not supported (default, linear, llama3)");
            }
        }
        int ctx = HfJson.getInt(c, "max_position_embeddings", 2048);
        int window = 0;
        Set<Integer> windowed = new TreeSet<>();
        if (type.equals("mistral") || type.equals("mixtral")) {
            window = HfJson.getInt(c, "sliding_window", 0);           // null in Mistral v0.2+: no window
            for (int i = 0; window > 0 && i < layers; i++) {
                windowed.add(i);
            }
        } else if (type.startsWith("qwen2") && HfJson.getBoolean(c, "use_sliding_window", false)) {
            window = HfJson.getInt(c, "sliding_window", 0);
            JsonElement types = c.get("layer_types");
            int from = HfJson.getInt(c, "max_window_layers", 28);      // HF Qwen2Config default
            for (int i = 0; window > 0 && i < layers; i++) {
                boolean sliding = types != null && !types.isJsonNull()
                        ? layerType(types, i, layers).equals("sliding_attention") : i >= from;
                if (sliding) {
                    windowed.add(i);
                }
            }
        }
        if (window < 0) {
            throw new IllegalArgumentException("config.json: sliding_window must be >= 0, got " + window);
        }
        if (windowed.isEmpty()) {
            window = 0;
        }
        return new LlamaConfig(qwenMoe ? "qwen2moe" : type, dim, hidden, layers, heads,
                HfJson.getInt(c, "num_key_value_heads", heads), headDim, HfJson.requireInt(c, "vocab_size"), ctx,
                (float) HfJson.getDouble(c, "rms_norm_eps", 1e-6), (float) theta, headDim, Rope.Pairing.HALF_SPLIT,
                ropeScale, experts, expertsUsed, sharedHidden, scaling, normTopK, denseHidden, dense, window,
                windowed);
    }

    // a JSON array of integers (absent or null = empty)
    private static Set<Integer> intSet(JsonObject c, String key) {
        Set<Integer> out = new TreeSet<>();
        if (!HfJson.has(c, key)) {
            return out;
        }
        JsonElement e = c.get(key);
        if (!e.isJsonArray()) {
            throw new IllegalArgumentException("config.json: '" + key + "' must be a list of layer indices, got " + e);
        }
        for (JsonElement x : e.getAsJsonArray()) {
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()
                    || x.getAsDouble() != Math.rint(x.getAsDouble())) {
                throw new IllegalArgumentException("config.json: '" + key + "' must be a list of layer indices, got "
                        + e);
            }
            out.add(x.getAsInt());
        }
        return out;
    }

    // layer_types[i] of a num_hidden_layers-long list of "full_attention"/"sliding_attention"
    private static String layerType(JsonElement types, int i, int layers) {
        if (!types.isJsonArray() || types.getAsJsonArray().size() != layers) {
            throw new IllegalArgumentException("config.json: 'layer_types' must list " + layers + " entries, got "
                    + types);
        }
        String t = types.getAsJsonArray().get(i).getAsString();
        if (!t.equals("full_attention") && !t.equals("sliding_attention")) {
            throw new IllegalArgumentException("config.json: layer_types[" + i + "] '" + t
                    + "' is not full_attention or sliding_attention");
        }
        return t;
    }

    /**
     * Layers whose FFN is dense in a GGUF MoE model (empty for a dense model): router {@code ffn_gate_inp}
     * present → sparse, {@code ffn_gate}/{@code ffn_up}/{@code ffn_down} present → dense; both or neither is an
     * error, as is a router in a model without {@code expert_count}.
     */
    private static Set<Integer> ggufDenseLayers(GgufFile f, int layers, int experts) throws ModelFormatException {
        Set<Integer> dense = new TreeSet<>();
        for (int i = 0; i < layers; i++) {
            String b = "blk." + i + ".";
            boolean router = f.contains(b + "ffn_gate_inp.weight");
            boolean mlp = f.contains(b + "ffn_gate.weight") || f.contains(b + "ffn_up.weight")
                    || f.contains(b + "ffn_down.weight");
            if (router == mlp) {
                throw new ModelFormatException(f.path(), -1, "layer " + i + " feed-forward tensors",
                        "either " + b + "ffn_gate_inp.weight (MoE) or " + b + "ffn_gate/ffn_up/ffn_down.weight (dense)",
                        router ? "both" : "neither");
            }
            if (router && experts == 0) {
                throw new ModelFormatException(f.path(), -1, "layer " + i + " feed-forward tensors",
                        "dense FFN (metadata has no expert_count)", "router " + b + "ffn_gate_inp.weight");
            }
            if (mlp && experts > 0) {
                dense.add(i);
            }
        }
        return dense;
    }
}
