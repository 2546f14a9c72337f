package dev.interlayer.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * ggml's reference quantizers for the 32-value formats ({@code quantize_row_*_ref}): no search, so the
 * bytes equal llama.cpp's ({@code llama-quantize --pure}) for the same F32 input.
 *
 * <ul>
 * <li>Q8_0: {@code d = amax/127}, {@code q = rhaz(x/d)} (C {@code roundf}).
 * <li>Q4_0 / Q5_0: {@code m} = the value of largest magnitude (first one wins), {@code d = m/−8} (−16),
 *     {@code q = min(15, trunc(x/d + 8.5))} (31, 16.5).
 * <li>Q4_1 / Q5_1: {@code d = (max − min)/15} (31), offset {@code min}, {@code q = trunc((x − min)/d + 0.5)}.
 * </ul>
 * Divisions are by multiplying with {@code id = 1/d} (0 when d is 0), in single precision, as in C.
 */
final class Block32Quantizer {
    private Block32Quantizer() {
    }

    static void q8_0(float[] x, int xo, MemorySegment y, long yo) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[xo + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        y.set(BlockFormat.I16, yo, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            y.set(BlockFormat.I8, yo + 2 + j, (byte) cInt(roundHalfAway(x[xo + j] * id)));
        }
    }

    /** Q4_0 ({@code bits = 4}) or Q5_0 ({@code bits = 5}). */
    static void symmetric(int bits, float[] x, int xo, MemorySegment y, long yo) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        int half = 1 << (bits - 1), qmax = (1 << bits) - 1;
        float d = max / -half;
        float id = d != 0 ? 1.0f / d : 0.0f;
        y.set(BlockFormat.I16, yo, Float.floatToFloat16(d));
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = Math.min(qmax, (byte) cInt(x[xo + j] * id + (half + 0.5f)));
        }
        pack(bits, q, y, yo + 2);
    }

    /** Q4_1 ({@code bits = 4}) or Q5_1 ({@code bits = 5}). */
    static void affine(int bits, float[] x, int xo, MemorySegment y, long yo) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[xo + j];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        int qmax = (1 << bits) - 1;
        float d = (max - min) / qmax;
        float id = d != 0 ? 1.0f / d : 0.0f;
        y.set(BlockFormat.I16, yo, Float.floatToFloat16(d));
        y.set(BlockFormat.I16, yo + 2, Float.floatToFloat16(min));
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            int t = cInt((x[xo + j] - min) * id + 0.5f);
            q[j] = bits == 4 ? Math.min(15, (byte) t) : t & 0xFF;
        }
        pack(bits, q, y, yo + 4);
    }

    /** Nibbles (j, j+16) into 16 bytes, after the little-endian u32 of fifth bits when bits = 5. */
    static void pack(int bits, int[] q, MemorySegment y, long at) {
        long qs = at;
        if (bits == 5) {
            int qh = 0;
            for (int j = 0; j < 32; j++) {
                qh |= ((q[j] >>> 4) & 1) << j;
            }
            y.set(BlockFormat.I32, at, qh);
            qs = at + 4;
        }
        for (int j = 0; j < 16; j++) {
            y.set(BlockFormat.I8, qs + j, (byte) ((q[j] & 15) | (q[j + 16] & 15) << 4));
        }
    }

    /**
     * A C float-to-integer conversion as x86-64 executes it ({@code cvttss2si}): truncation toward zero,
     * and the "integer indefinite" 0x80000000 for NaN and out-of-range values, where Java would saturate.
     * Reached when a block of float subnormals makes {@code 1/d} infinite.
     */
    static int cInt(float v) {
        return v >= -2147483648f && v < 2147483648f ? (int) v : Integer.MIN_VALUE;
    }

    /** C {@code roundf}: round half away from zero. */
    static float roundHalfAway(float v) {
        return Math.copySign((float) Math.floor(Math.abs(v) + 0.5), v);
    }
}
