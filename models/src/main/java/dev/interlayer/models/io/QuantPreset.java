package dev.interlayer.models.io;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code llama-quantize} presets Interlayer writes and the per-tensor type each picks. A preset
 * has a base type for 2-D weights; the {@code _S/_M} K-quant mixes give more bits to the tensors
 * quantization hurts most, following llama.cpp's {@code llama_tensor_get_type}: the output head gets
 * Q6_K, and in the _M mixes {@code attn_v} and {@code ffn_down} get Q6_K in the first and last eighth of
 * the layers and every third layer between ({@code use_more_bits}); the _S mixes give {@code ffn_down}
 * one step more (Q5_K) in the first eighth, and Q4_K_S gives {@code attn_v} Q5_K in the first 4
 * layers. The 2- and 3-bit mixes ({@link #lowBitType}): Q2_K stores {@code attn_v} as Q4_K when at least
 * 4 query heads share a KV head (else Q3_K) and {@code ffn_down}, {@code attn_output} as Q3_K; Q3_K_S is
 * Q3_K throughout; Q3_K_M gives {@code attn_v} Q5_K in layers 0–1 and Q4_K after, {@code ffn_down} Q5_K in
 * the first sixteenth and Q4_K after, {@code attn_output} Q4_K; Q3_K_L gives all three Q5_K. 1-D tensors
 * (norms, biases) stay as they are. This is a close reading of llama.cpp's rules, not a byte-for-byte
 * copy of every architecture special case (Falcon, 8-expert and 70B rules are not followed; nor is
 * llama.cpp's treatment of a tied {@code token_embd} as the output head).
 *
 * <p>A row whose length is not a multiple of the chosen type's block falls back like llama.cpp:
 * Q2_K and Q3_K → Q4_0, Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, and to F16 if even 32 does not divide it.
 * (Q2_K_S is not offered: llama.cpp refuses it without an importance matrix.)
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

    /** {@link #typeFor(String, long[], GgufType, int, int, boolean)} for a model without grouped-query attention. */
    public GgufType typeFor(String name, long[] shape, GgufType stored, int layers, boolean pure) {
        return typeFor(name, shape, stored, layers, 1, pure);
    }

    /**
     * The type tensor {@code name} (shape outermost first, innermost = row length) is stored as, for a
     * model of {@code layers} layers whose query heads per KV head are {@code gqa} (llama.cpp's
     * {@code n_gqa()}; only the Q2_K mix looks at it). {@code pure}: every 2-D weight gets the base type
     * (llama-quantize {@code --pure}), still subject to the row-length fallback.
     */
    public GgufType typeFor(String name, long[] shape, GgufType stored, int layers, int gqa, boolean pure) {
        if (shape.length < 2 || !name.endsWith(".weight") || stored.isQuantized()) {
            return stored;
        }
        GgufType t = base;
        if (!pure) {
            boolean output = name.equals("output.weight");
            if (output && mix) {
                t = GgufType.Q6_K;
            }
            int layer = layerOf(name);
            if (base == GgufType.Q2_K || base == GgufType.Q3_K) {
                t = output ? t : lowBitType(name, layer, layers, gqa);
            } else if (mix && layer >= 0 && (name.contains("attn_v.") || name.contains("ffn_down."))) {
                boolean mSuffix = this == Q4_K_M || this == Q5_K_M;
                if (mSuffix && moreBits(layer, layers)) {
                    t = GgufType.Q6_K;
                } else if (!mSuffix && name.contains("ffn_down.") && layer < layers / 8) {
                    t = GgufType.Q5_K;
                } else if (this == Q4_K_S && name.contains("attn_v.") && layer < 4) {
                    t = GgufType.Q5_K;
                }
            }
        }
        return fallback(t, shape[shape.length - 1]);
    }

    /**
     * llama.cpp's rules for the Q2_K and Q3_K_S/M/L mixes. Its "attn_v" category also holds the fused
     * {@code attn_qkv} and MLA's {@code attn_kv_b}, and its {@code ffn_down} matches expert and shared
     * variants by substring; its counters of such tensors equal the layer index for models with one per
     * layer, which is what is used here.
     */
    private GgufType lowBitType(String name, int layer, int layers, int gqa) {
        boolean attnV = name.contains("attn_qkv.weight") || name.contains("attn_kv_b.weight")
                || name.contains("attn_v.weight");
        if (attnV) {
            return switch (this) {
                case Q2_K -> gqa >= 4 ? GgufType.Q4_K : GgufType.Q3_K;
                case Q3_K_M -> layer < 2 ? GgufType.Q5_K : GgufType.Q4_K;
                case Q3_K_L -> GgufType.Q5_K;
                default -> base;
            };
        }
        if (name.contains("attn_output.weight")) {
            return switch (this) {
                case Q2_K -> GgufType.Q3_K;
                case Q3_K_M -> GgufType.Q4_K;
                case Q3_K_L -> GgufType.Q5_K;
                default -> base;
            };
        }
        if (name.contains("ffn_up") || name.contains("ffn_gate") || !name.contains("ffn_down")) {
            return base;
        }
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
