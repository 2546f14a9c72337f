package dev.interlayer.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * ggml's importance-weighted quantizers, the rounding {@code llama-quantize --imatrix} uses: with a per-column
 * importance {@code q_j} (llama-imatrix's {@code E[x_j²]} of the layer's input) every search minimises
 * {@code Σ_j w_j·(x_j − x̂_j)²} with {@code w_j = q_j·sqrt(σ² + x_j²)} instead of the reference weights.
 * Ported operation for operation in single precision from ggml-quants.c, so the bytes equal ggml's
 * ({@code quantize_<type>(src, dst, nrows, n_per_row, imatrix)}) when ggml is built without floating-point
 * contraction.
 * <ul>
 * <li>Q4_0/Q5_0 ({@code quantize_row_q4_0_impl}, {@code q5_0_impl}): σ² = mean x² over the whole row; per block of
 *     32 a symmetric scale search ({@code make_qx_quants}, {@link KQuantizer#makeQx}) with those weights.
 * <li>Q4_1/Q5_1 ({@code q4_1_impl}, {@code q5_1_impl}): the same weights, an affine search
 *     ({@code make_qkx3_quants}: {@link KQuantizer#makeQkx2} with rmin −0.9, rdelta 0.05, 37 steps).
 * <li>Q2_K, Q4_K, Q5_K ({@code q2_K_impl}, {@code q4_K_impl}, {@code q5_K_impl}): σ² = mean x² (Q2_K) or
 *     2·mean x² (Q4_K/Q5_K) over the super-block; affine sub-block searches ({@code make_qkx3_quants}); the
 *     sub-block scales and mins are themselves quantized by {@link #makeQp} ({@code make_qp_quants}) weighted by
 *     each sub-block's weight sum, instead of relative to their maximum.
 * <li>Q3_K ({@code q3_K_impl}): σ² = 2·mean x²; {@code make_qx_quants} for the sub-blocks and again, weighted by the
 *     sub-block weight sums, for the 6-bit scales.
 * <li>Q6_K ({@code q6_K_impl}): the sub-block search weighs by the importance itself
 *     ({@link KQuantizer#q6K} with the vector).
 * </ul>
 * Q8_0 has no weighted variant (ggml ignores the vector). An all-equal importance is not the reference rounding:
 * the weights still carry {@code sqrt(σ² + x²)} and the K-quants' scales are searched, not scaled to the maximum.
 * Not ported: ggml gives a Q2_K/Q4_K/Q5_K super-block whose 256 importances are all zero NaN as its f16 scale and
 * min ({@code make_qp_quants} returns 0/0); {@link Quantizer} rounds such a super-block without importance instead,
 * so the file stays loadable. Every other input gives ggml's bytes.
 */
final class WeightedBlockQuantizer {
    private WeightedBlockQuantizer() {
    }

    /** {@code Σ x²} over {@code x[xo .. xo + n)}, summed in order in single precision as ggml does. */
    private static float sumSquares(float[] x, int xo, int n) {
        float s = 0;
        for (int j = 0; j < n; j++) {
            s += x[xo + j] * x[xo + j];
        }
        return s;
    }

    /** {@code w[l] = qw[qo + l]·sqrt(sigma2 + x²)} for the n values at {@code xo}; returns their sum (in order). */
    private static float weights(float[] x, int xo, float[] qw, int qo, float sigma2, int n, float[] w) {
        float sum = 0;
        for (int l = 0; l < n; l++) {
            w[l] = qw[qo + l] * (float) Math.sqrt(sigma2 + x[xo + l] * x[xo + l]);
        }
        for (int l = 0; l < n; l++) {
            sum += w[l];
        }
        return sum;
    }

    /**
     * A whole row of Q4_0/Q5_0 ({@code affine = false}) or Q4_1/Q5_1 ({@code affine = true}) blocks, {@code bits}
     * 4 or 5, from {@code x[xo .. xo + n)} with importance {@code qw[0 .. n)}.
     */
    static void block32Row(int bits, boolean affine, float[] x, int xo, int n, float[] qw, MemorySegment y, long yo) {
        float sigma2 = sumSquares(x, xo, n) / n;
        int blockBytes = (affine ? 4 : 2) + (bits == 5 ? 4 : 0) + 16;
        float[] w = new float[32];
        byte[] lq = new byte[32], laux = new byte[32];
        float[] theMin = new float[1];
        int[] q = new int[32];
        for (int ib = 0; ib < n / 32; ib++) {
            int xb = xo + 32 * ib;
            long at = yo + (long) ib * blockBytes;
            weights(x, xb, qw, 32 * ib, sigma2, 32, w);
            if (affine) {
                float d = KQuantizer.makeQkx2(32, (1 << bits) - 1, x, xb, w, lq, 0, theMin, laux, -0.9f, 0.05f, 36,
                        false);
                y.set(BlockFormat.I16, at, Float.floatToFloat16(d));
                y.set(BlockFormat.I16, at + 2, Float.floatToFloat16(-theMin[0]));
            } else {
                float d = KQuantizer.makeQx(32, 1 << (bits - 1), x, xb, w, 0, lq, 0);
                y.set(BlockFormat.I16, at, Float.floatToFloat16(d));
            }
            for (int j = 0; j < 32; j++) {
                q[j] = lq[j] & 0xFF;
            }
            Block32Quantizer.pack(bits, q, y, at + (affine ? 4 : 2));
        }
    }

    /** Q4_K ({@code bits = 4}) or Q5_K ({@code bits = 5}): one super-block, importance from {@code qw[qo ..]}. */
    static void q45K(int bits, float[] x, int xo, float[] qw, int qo, MemorySegment y, long yo) {
        byte[] lq = new byte[256], laux = new byte[32];
        float[] w = new float[32], sw = new float[8], mins = new float[8], scales = new float[8];
        float[] theMin = new float[1];
        float sigma2 = 2 * sumSquares(x, xo, 256) / 256;
        for (int j = 0; j < 8; j++) {
            sw[j] = weights(x, xo + 32 * j, qw, qo + 32 * j, sigma2, 32, w);
            scales[j] = KQuantizer.makeQkx2(32, (1 << bits) - 1, x, xo + 32 * j, w, lq, 32 * j, theMin, laux, -0.9f,
                    0.05f, 36, false);
            mins[j] = theMin[0];
        }
        int[] ls = new int[8], lm = new int[8];
        float dBlock = makeQp(8, 63, scales, ls, sw);
        float mBlock = makeQp(8, 63, mins, lm, sw);
        if (bits == 5) {           // q5_K_impl clamps the uint8_t codes to 63; q4_K_impl stores them as they are
            for (int j = 0; j < 8; j++) {
                ls[j] = Math.min(63, ls[j]);
                lm[j] = Math.min(63, lm[j]);
            }
        }
        KQuantizer.storeQ45K(bits, x, xo, lq, ls, lm, Float.floatToFloat16(dBlock), Float.floatToFloat16(mBlock),
                y, yo);
    }

    /** Q2_K: one super-block, importance from {@code qw[qo ..]}. */
    static void q2K(float[] x, int xo, float[] qw, int qo, MemorySegment y, long yo) {
        byte[] lq = new byte[256], laux = new byte[16], sc = new byte[16];
        float[] w = new float[16], sw = new float[16], mins = new float[16], scales = new float[16];
        float[] theMin = new float[1];
        float sigma2 = sumSquares(x, xo, 256) / 256;
        for (int j = 0; j < 16; j++) {
            sw[j] = weights(x, xo + 16 * j, qw, qo + 16 * j, sigma2, 16, w);
            scales[j] = KQuantizer.makeQkx2(16, 3, x, xo + 16 * j, w, lq, 16 * j, theMin, laux, -0.9f, 0.05f, 36,
                    false);
            mins[j] = theMin[0];
        }
        int[] ls = new int[16], lm = new int[16];
        float dm = makeQp(16, 15, scales, ls, sw);
        float mm = makeQp(16, 15, mins, lm, sw);
        for (int j = 0; j < 16; j++) {
            sc[j] = (byte) (ls[j] | (lm[j] << 4));
        }
        LowBitKQuantizer.storeQ2K(x, xo, lq, sc, Float.floatToFloat16(dm), Float.floatToFloat16(mm), y, yo);
    }

    /** Q3_K: one super-block, importance from {@code qw[qo ..]}. */
    static void q3K(float[] x, int xo, float[] qw, int qo, MemorySegment y, long yo) {
        byte[] lq = new byte[256], ls = new byte[16], sc = new byte[12];
        float[] w = new float[16], sw = new float[16], scales = new float[16];
        float sigma2 = 2 * sumSquares(x, xo, 256) / 256;
        for (int j = 0; j < 16; j++) {
            sw[j] = weights(x, xo + 16 * j, qw, qo + 16 * j, sigma2, 16, w);
            scales[j] = KQuantizer.makeQx(16, 4, x, xo + 16 * j, w, 0, lq, 16 * j);
        }
        float dBlock = KQuantizer.makeQx(16, 32, scales, 0, sw, 0, ls, 0);
        int[] l6 = new int[16];
        for (int j = 0; j < 16; j++) {
            l6[j] = ls[j];
        }
        LowBitKQuantizer.packQ3Scales(l6, sc);
        LowBitKQuantizer.storeQ3K(x, xo, lq, sc, Float.floatToFloat16(dBlock), y, yo);
    }

    /**
     * ggml's {@code make_qp_quants}: non-negative codes {@code L[i]} in [0, nmax] for the non-negative values
     * {@code x} (sub-block scales or mins) and returns their scale, minimising {@code Σ w·(x − scale·L)²}. Tries
     * {@code (nmax + 0.1·is)/max} for is = −4..4, then up to five sweeps of single-code moves that raise
     * {@code (Σw·x·L)²/Σw·L²}. Codes are stored as ggml's uint8_t (a negative value, possible only for a negative
     * scale, wraps as there); the returned scale is {@code Σw·x·L / Σw·L²} (NaN, as in ggml, when every weight is 0).
     */
    static float makeQp(int n, int nmax, float[] x, int[] lq, float[] w) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = max > x[i] ? max : x[i];   // ggml's MAX macro, kept for its NaN and signed-zero outcomes
        }
        if (max == 0) {
            java.util.Arrays.fill(lq, 0, n, 0);
            return 0.f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; i++) {
            lq[i] = KQuantizer.nearestInt(iscale * x[i]) & 0xFF;
        }
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; i++) {
            float diff = x[i] - scale * lq[i];
            bestMse += w[i] * diff * diff;
        }
        for (int is = -4; is <= 4; is++) {
            if (is == 0) {
                continue;
            }
            float iscaleIs = (0.1f * is + nmax) / max;
            float scaleIs = 1 / iscaleIs;
            float mse = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.min(nmax, KQuantizer.nearestInt(iscaleIs * x[i]));
                float diff = x[i] - scaleIs * l;
                mse += w[i] * diff * diff;
            }
            if (mse < bestMse) {
                bestMse = mse;
                iscale = iscaleIs;
            }
        }
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.min(nmax, KQuantizer.nearestInt(iscale * x[i]));
            lq[i] = l & 0xFF;
            sumlx += w[i] * x[i] * l;
            suml2 += w[i] * l * l;
        }
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float slx = sumlx - w[i] * x[i] * lq[i];
                float sl2 = suml2 - w[i] * lq[i] * lq[i];
                if (slx > 0 && sl2 > 0) {
                    int newL = Math.min(nmax, KQuantizer.nearestInt(x[i] * sl2 / slx));
                    if (newL != lq[i]) {
                        slx += w[i] * x[i] * newL;
                        sl2 += w[i] * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                            lq[i] = newL & 0xFF;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        return sumlx / suml2;
    }
}
