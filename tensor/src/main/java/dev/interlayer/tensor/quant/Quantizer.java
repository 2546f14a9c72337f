package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.UnsupportedDTypeException;
import java.lang.foreign.MemorySegment;

/**
 * Writes GGML blocks from F32 values with ggml's reference rounding ({@code quantize_row_*_ref}): the
 * bytes of Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 equal llama.cpp's for the same input; Q2_K, Q3_K, Q4_K, Q5_K
 * and Q6_K follow ggml's scale searches operation for operation (equal bytes on ggml built without
 * floating-point contraction). F16 and BF16 sources are widened to F32 first
 * (exactly), as llama-quantize does. With a per-column importance vector the rows are rounded by ggml's
 * importance-weighted searches instead ({@code llama-quantize --imatrix}; {@link WeightedBlockQuantizer}).
 */
public final class Quantizer {
    /** The types this class writes. */
    public static final DType[] TARGETS = {DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1,
            DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K};

    private Quantizer() {
    }

    /** True if {@link #quantizeRow} can write {@code t}. */
    public static boolean canWrite(DType t) {
        for (DType d : TARGETS) {
            if (d == t) {
                return true;
            }
        }
        return false;
    }

    /**
     * Packs 32 unsigned 4- or 5-bit codes in ggml's Q4_x/Q5_x layout at byte {@code at} of {@code out}: for 5 bits
     * first the little-endian uint32 of fifth bits (bit j = code j), then 16 bytes with code j in the low nibble and
     * code j + 16 in the high nibble of byte j (the block's scale and min are the caller's). For quantizers that
     * choose their own codes.
     *
     * @throws IllegalArgumentException if bits is not 4 or 5, or fewer than 32 codes are given
     */
    public static void packCodes32(int bits, int[] codes, MemorySegment out, long at) {
        if ((bits != 4 && bits != 5) || codes.length < 32) {
            throw new IllegalArgumentException("packCodes32: need 4 or 5 bits and 32 codes, got " + bits + " bits and "
                    + codes.length + " codes");
        }
        Block32Quantizer.pack(bits, codes, out, at);
    }

    /**
     * Quantizes the row {@code x[xOff .. xOff + n)} with importance-weighted rounding, as {@code llama-quantize
     * --imatrix} does (ggml's {@code quantize_<type>} with {@code quant_weights}): {@code importance[j]} weighs
     * column j's squared rounding error (llama-imatrix's {@code E[x_j²]}). The bytes equal ggml's for the same
     * input; see {@link WeightedBlockQuantizer} for what each type weighs. Q8_0 ignores the importance, as ggml
     * does. A null {@code importance} is {@link #quantizeRow(DType, float[], int, int, MemorySegment, long)}. The
     * block-32 types' weights depend on the mean square of the whole row, so this takes whole rows only.
     * One deliberate difference from ggml: a Q2_K/Q4_K/Q5_K super-block whose importances are all zero is rounded
     * as without importance; ggml writes NaN scales there (0/0 in {@code make_qp_quants}), a block that every
     * loader rejects and that would dequantize to NaN.
     *
     * @throws IllegalArgumentException  if n is not a whole number of blocks, {@code importance} is not n long,
     *                                   or holds a negative, NaN or infinite value (naming the column)
     * @throws UnsupportedDTypeException if type is not one of {@link #TARGETS}
     */
    public static void quantizeRow(DType type, float[] x, int xOff, int n, float[] importance, MemorySegment out,
                                   long outOff) {
        if (importance == null) {
            quantizeRow(type, x, xOff, n, out, outOff);
            return;
        }
        if (!canWrite(type)) {
            throw new UnsupportedDTypeException("quantize", type, TARGETS);
        }
        int bs = type.blockSize(), bb = type.blockBytes();
        if (n < 0 || n % bs != 0) {
            throw new IllegalArgumentException(type + " rows are whole blocks of " + bs + " values; got " + n);
        }
        if (importance.length != n) {
            throw new IllegalArgumentException("importance has " + importance.length + " values for a row of " + n);
        }
        for (int j = 0; j < n; j++) {
            if (!(importance[j] >= 0) || Float.isInfinite(importance[j])) {
                throw new IllegalArgumentException("importance[" + j + "] = " + importance[j]
                        + "; it must be finite and >= 0");
            }
        }
        switch (type) {
            case Q8_0 -> quantizeRow(type, x, xOff, n, out, outOff);
            case Q4_0 -> WeightedBlockQuantizer.block32Row(4, false, x, xOff, n, importance, out, outOff);
            case Q5_0 -> WeightedBlockQuantizer.block32Row(5, false, x, xOff, n, importance, out, outOff);
            case Q4_1 -> WeightedBlockQuantizer.block32Row(4, true, x, xOff, n, importance, out, outOff);
            case Q5_1 -> WeightedBlockQuantizer.block32Row(5, true, x, xOff, n, importance, out, outOff);
            default -> {
                for (int b = 0; b < n / bs; b++) {
                    int xo = xOff + b * bs;
                    long yo = outOff + (long) b * bb;
                    if (zeroImportanceGivesNaN(type) && allZero(importance, b * bs, bs)) {
                        // ggml's make_qp_quants divides 0 by 0 here and stores NaN scales, which no loader
                        // (ours included) accepts; with nothing to weigh, the reference rounding is the answer.
                        quantizeRow(type, x, xo, bs, out, yo);
                        continue;
                    }
                    switch (type) {
                        case Q2_K -> WeightedBlockQuantizer.q2K(x, xo, importance, b * bs, out, yo);
                        case Q3_K -> WeightedBlockQuantizer.q3K(x, xo, importance, b * bs, out, yo);
                        case Q4_K -> WeightedBlockQuantizer.q45K(4, x, xo, importance, b * bs, out, yo);
                        case Q5_K -> WeightedBlockQuantizer.q45K(5, x, xo, importance, b * bs, out, yo);
                        case Q6_K -> KQuantizer.q6K(x, xo, importance, b * bs, out, yo);
                        default -> throw new AssertionError(type);
                    }
                }
            }
        }
    }

    /** The K-quants whose weighted scale search divides by the super-block's total importance. */
    static boolean zeroImportanceGivesNaN(DType type) {
        return type == DType.Q2_K || type == DType.Q4_K || type == DType.Q5_K;
    }

    private static boolean allZero(float[] v, int from, int n) {
        for (int j = from; j < from + n; j++) {
            if (v[j] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Quantizes {@code x[xOff .. xOff + n)} into {@code n / blockSize} blocks of {@code type} at byte
     * {@code outOff} of {@code out}.
     *
     * @throws IllegalArgumentException  if n is not a whole number of blocks
     * @throws UnsupportedDTypeException if type is not one of {@link #TARGETS}
     */
    public static void quantizeRow(DType type, float[] x, int xOff, int n, MemorySegment out, long outOff) {
        if (!canWrite(type)) {
            throw new UnsupportedDTypeException("quantize", type, TARGETS);
        }
        int bs = type.blockSize(), bb = type.blockBytes();
        if (n < 0 || n % bs != 0) {
            throw new IllegalArgumentException(type + " rows are whole blocks of " + bs + " values; got " + n);
        }
        for (int b = 0; b < n / bs; b++) {
            int xo = xOff + b * bs;
            long yo = outOff + (long) b * bb;
            switch (type) {
                case Q8_0 -> Block32Quantizer.q8_0(x, xo, out, yo);
                case Q4_0 -> Block32Quantizer.symmetric(4, x, xo, out, yo);
                case Q5_0 -> Block32Quantizer.symmetric(5, x, xo, out, yo);
                case Q4_1 -> Block32Quantizer.affine(4, x, xo, out, yo);
                case Q5_1 -> Block32Quantizer.affine(5, x, xo, out, yo);
                case Q2_K -> LowBitKQuantizer.q2K(x, xo, out, yo);
                case Q3_K -> LowBitKQuantizer.q3K(x, xo, out, yo);
                case Q4_K -> KQuantizer.q45K(4, x, xo, out, yo);
                case Q5_K -> KQuantizer.q45K(5, x, xo, out, yo);
                case Q6_K -> KQuantizer.q6K(x, xo, null, 0, out, yo);
                default -> throw new AssertionError(type);
            }
        }
    }
}
