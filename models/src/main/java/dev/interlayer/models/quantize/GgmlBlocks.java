package dev.interlayer.models.quantize;

import dev.interlayer.models.io.GgufType;
import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.GridKind;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.quant.Quantizer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The GGML 32-value block formats as grids the calibrated quantizers choose their codes on, and the lossless
 * packing of a {@link QuantizedLinear} into those blocks (ggml's {@code block_q4_0 … block_q8_0}):
 * <ul>
 *   <li>Q4_0 / Q5_0: {@link GridKind#SYM_SIGNED_MAX}, fp16 {@code d = scale}, codes unchanged
 *       ({@code x = d·(q − 8)} resp. {@code − 16});</li>
 *   <li>Q4_1 / Q5_1: {@link GridKind#ASYM_OFFSET}, fp16 {@code d = scale} and {@code m = offset}
 *       ({@code x = d·q + m});</li>
 *   <li>Q8_0: {@link GridKind#SYM_RESTRICTED} 8-bit, fp16 {@code d}, {@code qs = q − 128}
 *       ({@code x = d·qs}).</li>
 * </ul>
 * The schemes store scales as fp16, rounded before any code is chosen, so the block holds exactly the grid the
 * quantizer used: decoding a packed block gives the quantizer's own dequantized weights bit for bit (each
 * product {@code d·q} has at most 11 + 8 significant bits and is exact in float32; the offset grid rounds its
 * one addition in float32 as ggml does).
 */
public final class GgmlBlocks {
    /** Values per block of every format here. */
    public static final int GROUP = 32;

    private GgmlBlocks() {
    }

    /** What {@link #scheme} accepts, for error messages. */
    public static final String SUPPORTED = "--bits 4 or 5 with --group 32 (asymmetric: Q4_1/Q5_1; --sym: Q4_0/Q5_0),"
            + " or --bits 8 --group 32 (Q8_0, symmetric)";

    /**
     * The block-format grid for {@code bits}-bit codes in groups of {@code group} columns.
     *
     * @param symmetric Q4_0/Q5_0 instead of Q4_1/Q5_1 (8 bits is always symmetric)
     * @param clip      clipping search for fitting each block's grid
     * @throws IllegalArgumentException naming the supported combinations if no GGUF type stores this grid
     */
    public static QuantScheme scheme(int bits, int group, boolean symmetric, ClipSearch clip) {
        if (group != GROUP || (bits != 4 && bits != 5 && bits != 8)) {
            throw new IllegalArgumentException("no GGUF block type stores " + bits + "-bit codes in groups of " + group
                    + "; supported: " + SUPPORTED);
        }
        GridKind kind = bits == 8 ? GridKind.SYM_RESTRICTED : symmetric ? GridKind.SYM_SIGNED_MAX : GridKind.ASYM_OFFSET;
        return new QuantScheme(kind, bits, group, clip, QuantScheme.ScaleFormat.F16);
    }

    /**
     * The GGUF type whose blocks store {@code s} losslessly.
     *
     * @throws IllegalArgumentException if none does
     */
    public static GgufType typeOf(QuantScheme s) {
        GgufType t = null;
        if (s.groupSize() == GROUP && s.scales() == QuantScheme.ScaleFormat.F16) {
            t = switch (s.kind()) {
                case SYM_SIGNED_MAX -> s.bits() == 4 ? GgufType.Q4_0 : s.bits() == 5 ? GgufType.Q5_0 : null;
                case ASYM_OFFSET -> s.bits() == 4 ? GgufType.Q4_1 : s.bits() == 5 ? GgufType.Q5_1 : null;
                case SYM_RESTRICTED -> s.bits() == 8 ? GgufType.Q8_0 : null;
                default -> null;
            };
        }
        if (t == null) {
            throw new IllegalArgumentException("no GGUF block type stores " + s + "; supported: " + SUPPORTED);
        }
        return t;
    }

    /**
     * The blocks of {@code q}, row by row ({@code rows · cols/32} blocks of {@link #typeOf} its scheme).
     *
     * @throws IllegalArgumentException if the scheme has no GGUF type, the columns are not a multiple of 32, or the
     *                                  groups are permuted (act-order without static groups)
     */
    public static byte[] pack(QuantizedLinear q) {
        GgufType t = typeOf(q.scheme());
        if (q.cols() % GROUP != 0 || q.groupIndex() != null) {
            throw new IllegalArgumentException("cannot pack " + q + " into " + t + ": need columns divisible by " + GROUP
                    + " and consecutive groups, got " + q.cols() + " columns"
                    + (q.groupIndex() != null ? " and a group index (act-order: use static groups)" : ""));
        }
        int blocksPerRow = q.cols() / GROUP;
        byte[] out = new byte[q.rows() * blocksPerRow * t.blockBytes()];
        MemorySegment s = MemorySegment.ofArray(out);
        int[] codes = new int[GROUP];
        for (int r = 0; r < q.rows(); r++) {
            for (int b = 0; b < blocksPerRow; b++) {
                int g = r * blocksPerRow + b;
                long at = (long) g * t.blockBytes();
                for (int j = 0; j < GROUP; j++) {
                    codes[j] = q.code(r, b * GROUP + j);
                }
                s.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, Float.floatToFloat16(q.scales()[g]));
                switch (t) {
                    case Q8_0 -> {
                        for (int j = 0; j < GROUP; j++) {
                            out[(int) at + 2 + j] = (byte) (codes[j] - 128);
                        }
                    }
                    case Q4_0, Q5_0 -> Quantizer.packCodes32(t == GgufType.Q5_0 ? 5 : 4, codes, s, at + 2);
                    case Q4_1, Q5_1 -> {
                        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 2, Float.floatToFloat16(q.zeros()[g]));
                        Quantizer.packCodes32(t == GgufType.Q5_1 ? 5 : 4, codes, s, at + 4);
                    }
                    default -> throw new IllegalStateException(t.toString());
                }
            }
        }
        return out;
    }
}
