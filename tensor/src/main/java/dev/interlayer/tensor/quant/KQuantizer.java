package dev.interlayer.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * ggml's reference quantizers for Q4_K, Q5_K and Q6_K ({@code quantize_row_q{4,5,6}_K_ref}), ported
 * operation for operation in single precision so the bytes match ggml built without floating-point
 * contraction (ISO C; a build that fuses multiply-adds may differ in rare last-bit ties).
 *
 * <p>Q4_K/Q5_K: per sub-block of 32, a weighted least-squares search over scale and min
 * ({@link #makeQkx2}, weights {@code sqrt(mean x²) + |x|}); scales and mins are then stored as 6-bit
 * integers relative to the super-block maxima ({@code d = max_scale/63}, {@code dmin = max_min/63}) and
 * every value is re-rounded with the stored scales. Q6_K: per sub-block of 16, a scale search
 * ({@link #makeQx}, weights {@code x²}), int8 sub-block scales relative to {@code d = max_scale/−128}.
 */
final class KQuantizer {
    private static final float GROUP_MAX_EPS = 1e-15f;

    private KQuantizer() {
    }

    /** ggml's {@code nearest_int}: round half to even through the 1.5·2^23 trick (bit-exact, also out of range). */
    static int nearestInt(float f) {
        float v = f + 12582912.f;
        return (Float.floatToRawIntBits(v) & 0x007fffff) - 0x00400000;
    }

    /** {@code nearestInt(f)} clamped to [−nmax, nmax − 1], the signed codes of ggml's make_qx/make_q3_quants. */
    static int signedCode(float f, int nmax) {
        return Math.max(-nmax, Math.min(nmax - 1, nearestInt(f)));
    }

    /** Q4_K ({@code bits = 4}) or Q5_K ({@code bits = 5}): one 256-value super-block. */
    static void q45K(int bits, float[] x, int xo, MemorySegment y, long yo) {
        int nmax = (1 << bits) - 1;
        byte[] lq = new byte[256], laux = new byte[32];
        float[] weights = new float[32], mins = new float[8], scales = new float[8], theMin = new float[1];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) {
                sumX2 += x[xo + 32 * j + l] * x[xo + 32 * j + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) {
                weights[l] = avX + Math.abs(x[xo + 32 * j + l]);
            }
            scales[j] = bits == 4
                    ? makeQkx2(32, nmax, x, xo + 32 * j, weights, lq, 32 * j, theMin, laux, -1.f, 0.1f, 20, false)
                    : makeQkx2(32, nmax, x, xo + 32 * j, weights, lq, 32 * j, theMin, laux, -0.5f, 0.1f, 15, false);
            mins[j] = theMin[0];
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        int[] ls = new int[8], lm = new int[8];
        for (int j = 0; j < 8; j++) {
            ls[j] = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            lm[j] = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
        }
        storeQ45K(bits, x, xo, lq, ls, lm, Float.floatToFloat16(maxScale / 63.f), Float.floatToFloat16(maxMin / 63.f),
                y, yo);
    }

    /**
     * The common end of ggml's Q4_K/Q5_K quantizers (reference and importance-weighted): packs the 6-bit sub-block
     * scales {@code ls} and mins {@code lm} (unsigned bytes, as ggml's uint8_t: higher bits are dropped as there),
     * re-rounds every value of a sub-block whose stored scale is non-zero with the stored scale and min (the other
     * sub-blocks keep the search's codes {@code lq}) and packs the codes.
     */
    static void storeQ45K(int bits, float[] x, int xo, byte[] lq, int[] ls, int[] lm, short d16, short dmin16,
                          MemorySegment y, long yo) {
        int nmax = (1 << bits) - 1;
        byte[] sc = new byte[12];
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                sc[j] = (byte) ls[j];
                sc[j + 4] = (byte) lm[j];
            } else {
                sc[j + 4] = (byte) ((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                sc[j - 4] |= (byte) ((ls[j] >> 4) << 6);
                sc[j] |= (byte) ((lm[j] >> 4) << 6);
            }
        }
        y.set(BlockFormat.I16, yo, d16);
        y.set(BlockFormat.I16, yo + 2, dmin16);
        MemorySegment.copy(sc, 0, y, BlockFormat.I8, yo + 4, 12);
        float dAll = Float.float16ToFloat(d16), dminAll = Float.float16ToFloat(dmin16);
        MemorySegment scSeg = MemorySegment.ofArray(sc);
        for (int j = 0; j < 8; j++) {
            float d = dAll * KQuantFormats.scaleMinK4(scSeg, 0, j, 0);
            if (d == 0) {
                continue;
            }
            float dm = dminAll * KQuantFormats.scaleMinK4(scSeg, 0, j, 1);
            for (int ii = 0; ii < 32; ii++) {
                int l = nearestInt((x[xo + 32 * j + ii] + dm) / d);
                lq[32 * j + ii] = (byte) Math.max(0, Math.min(nmax, l));
            }
        }
        if (bits == 4) {
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    y.set(BlockFormat.I8, yo + 16 + 32 * c + l, (byte) (lq[64 * c + l] | (lq[64 * c + l + 32] << 4)));
                }
            }
            return;
        }
        byte[] qh = new byte[32];
        int m1 = 1, m2 = 2;
        for (int c = 0; c < 4; c++) {
            for (int j = 0; j < 32; j++) {
                int l1 = lq[64 * c + j], l2 = lq[64 * c + j + 32];
                if (l1 > 15) {
                    l1 -= 16;
                    qh[j] |= (byte) m1;
                }
                if (l2 > 15) {
                    l2 -= 16;
                    qh[j] |= (byte) m2;
                }
                y.set(BlockFormat.I8, yo + 48 + 32 * c + j, (byte) (l1 | (l2 << 4)));
            }
            m1 <<= 2;
            m2 <<= 2;
        }
        MemorySegment.copy(qh, 0, y, BlockFormat.I8, yo + 16, 32);
    }

    /**
     * ggml's {@code make_qkx2_quants}: codes {@code L[lo ..]} in [0, nmax] and returns the scale; the
     * min (as a positive offset) goes to {@code theMin[0]}. Tries {@code nstep + 1} inverse scales
     * {@code (rmin + rdelta·is + nmax)/(max − min)} and keeps the weighted-least-squares fit with the
     * smallest weighted error: squared, or absolute when {@code useMad} (ggml's Q2_K search).
     */
    static float makeQkx2(int n, int nmax, float[] x, int xo, float[] weights, byte[] lq, int lo, float[] theMin,
                          byte[] laux, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xo], max = x[xo];
        float sumW = weights[0], sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float v = x[xo + i];
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * v;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                lq[lo + i] = 0;
            }
            theMin[0] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = nearestInt(iscale * (x[xo + i] - min));
            lq[lo + i] = (byte) Math.max(0, Math.min(nmax, l));
            float diff = scale * lq[lo + i] + min - x[xo + i];
            bestError += weights[i] * (useMad ? Math.abs(diff) : diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
                laux[i] = (byte) l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[xo + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xo + i];
                    curError += weights[i] * (useMad ? Math.abs(diff) : diff * diff);
                }
                if (curError < bestError) {
                    System.arraycopy(laux, 0, lq, lo, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    /**
     * Q6_K: one 256-value super-block. With an importance vector {@code qw} (from {@code qo}, one per value; null for
     * none) this is ggml's {@code quantize_row_q6_K_impl}: the sub-block scale search weighs the squared error by
     * the importance itself (not by {@code x²}); the rest is unchanged.
     */
    static void q6K(float[] x, int xo, float[] qw, int qo, MemorySegment y, long yo) {
        byte[] lq = new byte[256];
        float[] scales = new float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = makeQx(16, 32, x, xo + 16 * ib, qw, qo + 16 * ib, lq, 16 * ib);
            scales[ib] = scale;
            float abs = Math.abs(scale);
            if (abs > maxAbsScale) {
                maxAbsScale = abs;
                maxScale = scale;
            }
        }
        if (maxAbsScale < GROUP_MAX_EPS) {
            y.asSlice(yo, 210).fill((byte) 0);
            return;
        }
        float iscale = -128.f / maxScale;
        short d16 = Float.floatToFloat16(1 / iscale);
        y.set(BlockFormat.I16, yo + 208, d16);
        float dAll = Float.float16ToFloat(d16);
        for (int ib = 0; ib < 16; ib++) {
            byte sc = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            y.set(BlockFormat.I8, yo + 192 + ib, sc);
            float d = dAll * sc;
            if (d == 0) {
                continue;
            }
            for (int ii = 0; ii < 16; ii++) {
                int l = nearestInt(x[xo + 16 * ib + ii] / d);
                lq[16 * ib + ii] = (byte) (Math.max(-32, Math.min(31, l)) + 32);
            }
        }
        for (int h = 0; h < 2; h++) {
            int j = 128 * h;
            for (int l = 0; l < 32; l++) {
                int q1 = lq[j + l] & 0xF, q2 = lq[j + l + 32] & 0xF;
                int q3 = lq[j + l + 64] & 0xF, q4 = lq[j + l + 96] & 0xF;
                y.set(BlockFormat.I8, yo + 64 * h + l, (byte) (q1 | (q3 << 4)));
                y.set(BlockFormat.I8, yo + 64 * h + l + 32, (byte) (q2 | (q4 << 4)));
                y.set(BlockFormat.I8, yo + 128 + 32 * h + l, (byte) ((lq[j + l] >> 4) | ((lq[j + l + 32] >> 4) << 2)
                        | ((lq[j + l + 64] >> 4) << 4) | ((lq[j + l + 96] >> 4) << 6)));
            }
        }
    }

    /**
     * The value of largest magnitude in {@code x[xo .. xo + n)} (the first on ties), or 0 with the codes
     * {@code lq[lo .. lo + n)} zeroed when every magnitude is below ggml's {@code GROUP_MAX_EPS} (ggml's
     * all-zero group). Shared start of {@link #makeQx} and {@link LowBitKQuantizer#makeQ3}.
     */
    static float largestOrZero(int n, float[] x, int xo, byte[] lq, int lo) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                lq[lo + i] = 0;
            }
            return 0.f;
        }
        return max;
    }

    /**
     * The first pass of ggml's make_qx_quants and make_q3_quants: codes {@code l = signedCode(iscale·x)}
     * stored as {@code l + offset}, and returns {@code {Σ w·x·l, Σ w·l²}} with weights {@code w = qw[qo + i]},
     * or {@code x²} when {@code qw} is null.
     */
    static float[] roundAndSum(int n, int nmax, float[] x, int xo, float[] qw, int qo, float iscale, byte[] lq,
                               int lo, int offset) {
        float sumLx = 0, sumL2 = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            int l = signedCode(iscale * v, nmax);
            lq[lo + i] = (byte) (l + offset);
            float w = qw != null ? qw[qo + i] : v * v;
            sumLx += w * v * l;
            sumL2 += w * l * l;
        }
        return new float[] {sumLx, sumL2};
    }

    /**
     * ggml's {@code make_qx_quants} with {@code rmse_type = 1}: signed codes stored as {@code L = l + nmax} in
     * [0, 2·nmax), returns the scale. Starts from {@code iscale = −nmax/m} (m the value of largest magnitude) and
     * tries {@code −(nmax + 0.1·is)/m} for is = −9..9, keeping the least-squares scale with the best weighted fit:
     * weights {@code qw[qo ..]} (ggml's {@code quant_weights}), or x² when {@code qw} is null.
     */
    static float makeQx(int n, int nmax, float[] x, int xo, float[] qw, int qo, byte[] lq, int lo) {
        float max = largestOrZero(n, x, xo, lq, lo);
        if (max == 0) {
            return 0.f;
        }
        float iscale = -nmax / max;
        float[] sums = roundAndSum(n, nmax, x, xo, qw, qo, iscale, lq, lo, nmax);
        float sumLx = sums[0], sumL2 = sums[1];
        float scale = sumL2 != 0 ? sumLx / sumL2 : 0.0f;
        float best = scale * sumLx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumLx = 0;
            sumL2 = 0;
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                int l = signedCode(iscale * v, nmax);
                float w = qw != null ? qw[qo + i] : v * v;
                sumLx += w * v * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLx * sumLx > best * sumL2) {
                for (int i = 0; i < n; i++) {
                    lq[lo + i] = (byte) (nmax + signedCode(iscale * x[xo + i], nmax));
                }
                scale = sumLx / sumL2;
                best = scale * sumLx;
            }
        }
        return scale;
    }
}
