package dev.interlayer.models.io;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code llama-quantize} presets Interlayer writes and the per-tensor type each picks, following
 * llama.cpp's {@code llama_tensor_get_type} (checked tensor by tensor against llama-quantize on six models in
 * {@code QuantPresetVsLlamaCppTest}). A preset has a base type for 2-D weights.
 * <ul>
 *   <li>Every preset: the output head, and {@code token_embd} when it is also the head (tied), gets Q6_K,
 *       or Q8_0 when the preset's block does not divide its rows or the preset is Q8_0.</li>
 *   <li>The _M mixes: {@code attn_v} and {@code ffn_down} get Q6_K in the first and last eighth of the layers
 *       and every third layer between ({@code use_more_bits}). Q4_K_S: {@code ffn_down} Q5_K in the first
 *       eighth, {@code attn_v} Q5_K in the first 4 layers.</li>
 *   <li>Q2_K: {@code attn_v} Q4_K when at least 4 query heads share a KV head (else Q3_K), {@code ffn_down}
 *       and {@code attn_output} Q3_K. Q3_K_S: Q3_K throughout. Q3_K_M: {@code attn_v} Q5_K in layers 0–1 and
 *       Q4_K after, {@code ffn_down} Q5_K in the first sixteenth and Q4_K after, {@code attn_output} Q4_K.
 *       Q3_K_L: all three Q5_K.</li>
 *   <li>Models with 8 experts (Mixtral): {@code attn_k}, {@code attn_v} Q8_0; {@code attn_output} Q5_K in the
 *       Q2_K, Q3_K_S/M and Q4_K_S/M mixes.</li>
 * </ul>
 * Not quantized, as in llama.cpp: 1-D tensors, norms, the MoE router {@code ffn_gate_inp}, position and
 * token-type embeddings. Falcon's and 70B models' special cases are not followed (no such family here).
 *
 * <p>A row whose length is not a multiple of the chosen type's block falls back like llama.cpp:
 * Q2_K and Q3_K → Q4_0, Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, and to F16 if even 32 does not divide it
 * (llama.cpp refuses such a model instead). Q2_K_S is not offered: llama.cpp refuses it without an
 * importance matrix.
 */
public enum QuantPreset {
    Q8_0(GgufType.Q8_0, 7, false),
    Q4_0(GgufType.Q4_0, 2, false),
    Q4_1(GgufType.Q4_1, 3, false),
    Q5_0(GgufType.Q5_0, 8, false),
    Q5_1(GgufType.Q5_1, 9, false),
    Q2_K(GgufType.Q2_K, 10, true),
    Q3_K_S(GgufType.Q3_K, 11, true),
    Q3_K_M(GgufType.Q3_K, 12, true),
    Q3_K_L(GgufType.Q3_K, 13, true),
    Q4_K_S(GgufType.Q4_K, 14, true),
    Q4_K_M(GgufType.Q4_K, 15, true),
    Q5_K_S(GgufType.Q5_K, 16, true),
    Q5_K_M(GgufType.Q5_K, 17, true),
    Q6_K(GgufType.Q6_K, 18, false);

    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    private final GgufType base;
    private final int fileType;
    private final boolean mix;

    QuantPreset(GgufType base, int fileType, boolean mix) {
        this.base = base;
        this.fileType = fileType;
        this.mix = mix;
    }

    /** The base type of 2-D weights. */
    public GgufType base() {
        return base;
    }

    /** llama.cpp's {@code llama_ftype} value, written as {@code general.file_type}. */
    public int fileType() {
        return fileType;
    }

    /** The preset named {@code s} (case-insensitive). @throws IllegalArgumentException listing the presets */
    public static QuantPreset parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown quantization type '" + s + "'; supported: "
                    + java.util.Arrays.toString(values()));
        }
    }

    /**
     * What llama.cpp's type rules look at besides a tensor's name and shape.
     *
     * @param layers     block count
     * @param gqa        query heads per KV head ({@code n_gqa()}; only the Q2_K mix looks at it)
     * @param experts    routed experts per MoE layer, 0 for a dense model (8 experts get more bits in attention)
     * @param tiedOutput the file has no {@code output.weight}: {@code token_embd} is also the output head and is
     *                   typed like it
     * @param attnVs     {@code attn_v}/{@code attn_qkv}/{@code attn_kv_b} weights: llama.cpp's layer count in the
     *                   attn_v rules (the ffn_down rules use {@code layers})
     */
    public record Model(int layers, int gqa, int experts, boolean tiedOutput, int attnVs) {
        /** A dense model with one attn_v per layer and an untied output head. */
        public static Model dense(int layers, int gqa) {
            return new Model(layers, gqa, 0, false, layers);
        }
    }

    /** {@link #typeFor(String, long[], GgufType, Model, boolean)} for a dense model without grouped-query attention. */
    public GgufType typeFor(String name, long[] shape, GgufType stored, int layers, boolean pure) {
        return typeFor(name, shape, stored, Model.dense(layers, 1), pure);
    }

    /** {@link #typeFor(String, long[], GgufType, Model, boolean)} for a dense model with an untied output head. */
    public GgufType typeFor(String name, long[] shape, GgufType stored, int layers, int gqa, boolean pure) {
        return typeFor(name, shape, stored, Model.dense(layers, gqa), pure);
    }

    /**
     * The type tensor {@code name} (shape outermost first, innermost = row length) is stored as in a model
     * described by {@code model}, following llama.cpp's {@code llama_tensor_get_type}. Tensors it never
     * quantizes keep their type: 1-D tensors, names not ending in {@code .weight}, norms, the MoE router
     * {@code ffn_gate_inp}, GPT-2's position and BERT's token-type embeddings. The output head (and a tied
     * {@code token_embd}) gets Q6_K unless the preset is Q8_0 or the preset's block does not divide its rows
     * (then Q8_0). {@code pure}: every other quantizable weight gets the base type (llama-quantize
     * {@code --pure}), still subject to the row-length fallback.
     */
    public GgufType typeFor(String name, long[] shape, GgufType stored, Model model, boolean pure) {
        return typeFor(name, shape, stored, model, pure, false);
    }

    /**
     * {@link #typeFor(String, long[], GgufType, Model, boolean)} when an importance matrix is ({@code imatrix}) or is
     * not given: llama.cpp then stores the {@code ffn_down} weights of the first eighth of the layers of the Q4_0 and
     * Q5_0 mixes as Q4_1 and Q5_1 (its guard against those layers' outliers; not with {@code pure}).
     */
    public GgufType typeFor(String name, long[] shape, GgufType stored, Model model, boolean pure, boolean imatrix) {
        if (shape.length < 2 || !quantizable(name) || stored.isQuantized()) {
            return stored;
        }
        long row = shape[shape.length - 1];
        boolean head = name.equals("output.weight") || (model.tiedOutput() && name.equals("token_embd.weight"));
        GgufType t = base;
        if (!pure && head) {
            t = row % base.blockSize() != 0 ? GgufType.Q8_0 : base == GgufType.Q8_0 ? base : GgufType.Q6_K;
        } else if (!pure) {
            t = mixType(name, layerOf(name), model, imatrix);
        }
        return fallback(t, row);
    }

    // llama.cpp's tensor_allows_quantization for the tensor names Interlayer's families use.
    private static boolean quantizable(String name) {
        return name.endsWith(".weight") && !name.contains("_norm.weight") && !name.contains("ffn_gate_inp.weight")
                && !name.equals("position_embd.weight") && !name.equals("token_types.weight");
    }

    // The per-tensor choice of the mix for a block weight (llama_tensor_get_type_impl without the IQ, Falcon and
    // 70B special cases, which no preset here reaches). Layer indices come from the name; llama.cpp counts the
    // attn_v/ffn_down weights instead (the same for one per layer) and parses the name for MoE models; its
    // ffn_down rules divide by the layer count, its attn_v rules by the number of attn_v weights (attnVs).
    private GgufType mixType(String name, int layer, Model model, boolean imatrix) {
        boolean attnV = name.contains("attn_qkv.weight") || name.contains("attn_kv_b.weight")
                || name.contains("attn_v.weight");
        boolean ffnDown = !name.contains("ffn_up") && !name.contains("ffn_gate") && name.contains("ffn_down");
        boolean attnOut = name.contains("attn_output.weight");
        if (model.experts() == 8 && (attnV || name.contains("attn_k.weight"))) {
            return GgufType.Q8_0; // Mixtral-8x: llama.cpp spends ~128 MB more on K and V
        }
        if (model.experts() == 8 && attnOut) {
            return switch (this) {
                case Q2_K, Q3_K_S, Q3_K_M, Q4_K_S, Q4_K_M -> GgufType.Q5_K;
                default -> base;
            };
        }
        if (base == GgufType.Q2_K || base == GgufType.Q3_K) {
            return attnV ? lowBitAttnV(layer, model.gqa()) : attnOut ? lowBitAttnOutput()
                    : ffnDown ? lowBitFfnDown(layer, model.layers()) : base;
        }
        if (imatrix && ffnDown && (this == Q4_0 || this == Q5_0) && layer >= 0 && layer < model.layers() / 8) {
            return this == Q4_0 ? GgufType.Q4_1 : GgufType.Q5_1;
        }
        if (!mix || layer < 0) {
            return base;
        }
        if (attnV) {
            boolean more = (this == Q4_K_M || this == Q5_K_M) && moreBits(layer, model.attnVs());
            return more ? GgufType.Q6_K : this == Q4_K_S && layer < 4 ? GgufType.Q5_K : base;
        }
        if (ffnDown) {
            boolean more = (this == Q4_K_M || this == Q5_K_M) && moreBits(layer, model.layers());
            return more ? GgufType.Q6_K : this == Q4_K_S && layer < model.layers() / 8 ? GgufType.Q5_K : base;
        }
        return base;
    }

    // llama.cpp's Q2_K and Q3_K_S/M/L rules. Its "attn_v" category also holds the fused attn_qkv and MLA's
    // attn_kv_b.
    private GgufType lowBitAttnV(int layer, int gqa) {
        return switch (this) {
            case Q2_K -> gqa >= 4 ? GgufType.Q4_K : GgufType.Q3_K;
            case Q3_K_M -> layer < 2 ? GgufType.Q5_K : GgufType.Q4_K;
            case Q3_K_L -> GgufType.Q5_K;
            default -> base;
        };
    }

    private GgufType lowBitAttnOutput() {
        return switch (this) {
            case Q2_K -> GgufType.Q3_K;
            case Q3_K_M -> GgufType.Q4_K;
            case Q3_K_L -> GgufType.Q5_K;
            default -> base;
        };
    }

    private GgufType lowBitFfnDown(int layer, int layers) {
        return switch (this) {
            case Q2_K -> GgufType.Q3_K;
            case Q3_K_M -> layer < layers / 16 ? GgufType.Q5_K : GgufType.Q4_K;
            case Q3_K_L -> GgufType.Q5_K;
            default -> base;
        };
    }

    /** llama.cpp's {@code use_more_bits}: the first and last eighth of the layers, and every third between. */
    static boolean moreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    static GgufType fallback(GgufType t, long rowLength) {
        if (rowLength % t.blockSize() == 0) {
            return t;
        }
        GgufType f = switch (t) {
            case Q2_K, Q3_K -> GgufType.Q4_0;
            case Q4_K -> GgufType.Q5_0;
            case Q5_K -> GgufType.Q5_1;
            case Q6_K -> GgufType.Q8_0;
            default -> t;
        };
        return rowLength % f.blockSize() == 0 ? f : GgufType.F16;
    }

    // Layer index of a blk.N. tensor name, -1 outside the layers (and for an index beyond int, which no real file
    // has: such a name is then sorted and typed as a non-layer tensor instead of failing inside a comparator).
    static int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        if (!m.find()) {
            return -1;
        }
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
