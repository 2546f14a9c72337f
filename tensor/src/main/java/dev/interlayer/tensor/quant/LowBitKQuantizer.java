package dev.interlayer.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * ggml's reference quantizers for the 2- and 3-bit K-quants ({@code quantize_row_q2_K_ref},
 * {@code quantize_row_q3_K_ref} in ggml-quants.c), reimplemented operation for operation in single
 * precision so the bytes match ggml built without floating-point contraction, like {@link KQuantizer}.
 *
 * <p>Q2_K (2.625 bits per weight): per sub-block of 16, {@link KQuantizer#makeQkx2} searches an affine
 * fit {@code x ≈ d·q − m}, q in [0, 3], minimising the weighted <em>absolute</em> error with weights
 * {@code |x|}; scales and mins are stored as 4-bit integers relative to the super-block maxima
 * ({@code d = max_scale/15}, {@code dmin = max_min/15}) and every value is re-rounded with the stored
 * scales. Q3_K (3.4375 bits per weight): per sub-block of 16, {@link #makeQ3} finds a symmetric scale
 * with codes in [−4, 3] by coordinate descent on the weighted least-squares fit (weights {@code x²});
 * sub-block scales are stored as signed 6-bit integers relative to {@code d = max_scale/−32}.
 */
final class LowBitKQuantizer {
    /** Q3_K: hmask[32] (third bit), qs[64] (low two bits), scales[12] (6-bit), d:f16. */
    private static final int Q3_QS = 32, Q3_SCALES = 96, Q3_D = 108;
    /** Q2_K: scales[16] (scale | min << 4), qs[64], d:f16, dmin:f16. */
    private static final int Q2_QS = 16, Q2_D = 80, Q2_DMIN = 82;

    private LowBitKQuantizer() {
    }

    /** Q2_K: one 256-value super-block from {@code x[xo ..]} to byte {@code yo} of {@code y}. */
    static void q2K(float[] x, int xo, MemorySegment y, long yo) {
        byte[] lq = new byte[256], laux = new byte[16], sc = new byte[16];
        float[] weights = new float[16], mins = new float[16], scales = new float[16], theMin = new float[1];
        float maxScale = 0, maxMin = 0; // the min is subtracted, so scales and mins are both >= 0
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) {
                weights[l] = Math.abs(x[xo + 16 * j + l]);
            }
            scales[j] = KQuantizer.makeQkx2(16, 3, x, xo + 16 * j, weights, lq, 16 * j, theMin, laux,
                    -0.5f, 0.1f, 15, true);
            mins[j] = theMin[0];
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        short d16 = 0, dmin16 = 0;
        if (maxScale > 0) {
            float iscale = 15.f / maxScale;
            for (int j = 0; j < 16; j++) {
                sc[j] = (byte) KQuantizer.nearestInt(iscale * scales[j]); // ggml stores the int into a uint8_t
            }
            d16 = Float.floatToFloat16(maxScale / 15.f);
        }
        if (maxMin > 0) {
            float iscale = 15.f / maxMin;
            for (int j = 0; j < 16; j++) {
                sc[j] |= (byte) (KQuantizer.nearestInt(iscale * mins[j]) << 4);
            }
            dmin16 = Float.floatToFloat16(maxMin / 15.f);
        }
        storeQ2K(x, xo, lq, sc, d16, dmin16, y, yo);
    }

    /**
     * The common end of ggml's Q2_K quantizers (reference and importance-weighted): with the stored sub-block
     * scales and mins {@code sc} ({@code scale | min << 4}) and super-block {@code d16}, {@code dmin16}, re-rounds
     * every sub-block whose stored scale is non-zero (the others keep the search's codes {@code lq}) and packs.
     */
    static void storeQ2K(float[] x, int xo, byte[] lq, byte[] sc, short d16, short dmin16, MemorySegment y,
                         long yo) {
        float dAll = Float.float16ToFloat(d16), dminAll = Float.float16ToFloat(dmin16);
        for (int j = 0; j < 16; j++) {
            float d = dAll * (sc[j] & 0xF);
            if (d == 0) {
                continue; // ggml keeps the search's codes for a sub-block whose stored scale is zero
            }
            float dm = dminAll * ((sc[j] & 0xFF) >> 4);
            for (int ii = 0; ii < 16; ii++) {
                int l = KQuantizer.nearestInt((x[xo + 16 * j + ii] + dm) / d);
                lq[16 * j + ii] = (byte) Math.max(0, Math.min(3, l));
            }
        }
        MemorySegment.copy(sc, 0, y, BlockFormat.I8, yo, 16);
        pack2Bit(lq, y, yo + Q2_QS);
        y.set(BlockFormat.I16, yo + Q2_D, d16);
        y.set(BlockFormat.I16, yo + Q2_DMIN, dmin16);
    }

    /** Q3_K: one 256-value super-block from {@code x[xo ..]} to byte {@code yo} of {@code y}. */
    static void q3K(float[] x, int xo, MemorySegment y, long yo) {
        byte[] lq = new byte[256], sc = new byte[12];
        float[] scales = new float[16];
        float maxScale = 0, amax = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = makeQ3(16, 4, x, xo + 16 * j, lq, 16 * j);
            float abs = Math.abs(scales[j]);
            if (abs > amax) {
                amax = abs;
                maxScale = scales[j];
            }
        }
        short d16 = 0;
        if (maxScale != 0) {
            float iscale = -32.f / maxScale;
            int[] ls = new int[16];
            for (int j = 0; j < 16; j++) {
                int l = (byte) KQuantizer.nearestInt(iscale * scales[j]); // ggml narrows to int8_t before clamping
                ls[j] = Math.max(-32, Math.min(31, l)) + 32;
            }
            packQ3Scales(ls, sc);
            d16 = Float.floatToFloat16(1 / iscale);
        }
        storeQ3K(x, xo, lq, sc, d16, y, yo);
    }

    /** Q3_K's 6-bit sub-block scales {@code ls} (0..63, the signed scale + 32): low nibbles, then 2-bit high parts. */
    static void packQ3Scales(int[] ls, byte[] sc) {
        for (int j = 0; j < 16; j++) {
            int l = ls[j];
            if (j < 8) {
                sc[j] = (byte) (l & 0xF);
            } else {
                sc[j - 8] |= (byte) ((l & 0xF) << 4);
            }
            sc[j % 4 + 8] |= (byte) ((l >> 4) << (2 * (j / 4)));
        }
    }

    /**
     * The common end of ggml's Q3_K quantizers (reference and importance-weighted): with the packed sub-block
     * scales {@code sc} and super-block scale {@code d16}, re-rounds every sub-block whose stored scale is non-zero
     * (the others keep the search's codes {@code lq}, stored as code + 4) and packs.
     */
    static void storeQ3K(float[] x, int xo, byte[] lq, byte[] sc, short d16, MemorySegment y, long yo) {
        byte[] hmask = new byte[32];
        float dAll = Float.float16ToFloat(d16);
        for (int j = 0; j < 16; j++) {
            int s = j < 8 ? sc[j] & 0xF : (sc[j - 8] & 0xFF) >> 4;
            s = (s | (((sc[8 + j % 4] & 0xFF) >> (2 * (j / 4))) & 3) << 4) - 32;
            float d = dAll * s;
            if (d == 0) {
                continue; // as in Q2_K, the search's codes stay
            }
            for (int ii = 0; ii < 16; ii++) {
                int l = KQuantizer.nearestInt(x[xo + 16 * j + ii] / d);
                lq[16 * j + ii] = (byte) (Math.max(-4, Math.min(3, l)) + 4);
            }
        }
        // The third bit of code j goes to bit j / 32 of hmask[j % 32].
        for (int j = 0; j < 256; j++) {
            if (lq[j] > 3) {
                hmask[j % 32] |= (byte) (1 << (j / 32));
                lq[j] -= 4;
            }
        }
        MemorySegment.copy(hmask, 0, y, BlockFormat.I8, yo, 32);
        pack2Bit(lq, y, yo + Q3_QS);
        MemorySegment.copy(sc, 0, y, BlockFormat.I8, yo + Q3_SCALES, 12);
        y.set(BlockFormat.I16, yo + Q3_D, d16);
    }

    /** ggml's 2-bit layout: per half of 128 codes, byte l holds codes l, l + 32, l + 64, l + 96 (low bits first). */
    private static void pack2Bit(byte[] lq, MemorySegment y, long at) {
        for (int h = 0; h < 256; h += 128) {
            for (int l = 0; l < 32; l++) {
                y.set(BlockFormat.I8, at + h / 4 + l, (byte) (lq[h + l] | (lq[h + l + 32] << 2)
                        | (lq[h + l + 64] << 4) | (lq[h + l + 96] << 6)));
            }
        }
    }

    /**
     * ggml's {@code make_q3_quants} with {@code do_rmse}: codes {@code L = l + nmax}, l in [−nmax, nmax),
     * returns the least-squares scale {@code Σw·x·l / Σw·l²} (weights x²). Starts from rounding with
     * {@code −nmax/m} (m the value of largest magnitude), then up to five sweeps move single codes to
     * {@code round(x·Σl²/Σxl)} (sums without that element) whenever that raises {@code (Σw·x·l)²/Σw·l²},
     * i.e. lowers the weighted squared error.
     */
    static float makeQ3(int n, int nmax, float[] x, int xo, byte[] lq, int lo) {
        float max = KQuantizer.largestOrZero(n, x, xo, lq, lo);
        if (max == 0) {
            return 0.f;
        }
        float[] sums = KQuantizer.roundAndSum(n, nmax, x, xo, null, 0, -nmax / max, lq, lo, 0);
        float sumLx = sums[0], sumL2 = sums[1];
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float v = x[xo + i], w = v * v;
                int li = lq[lo + i];
                float slx = sumLx - w * v * li;
                if (slx > 0) {
                    float sl2 = sumL2 - w * li * li;
                    int newL = KQuantizer.signedCode(v * sl2 / slx, nmax);
                    if (newL != li) {
                        slx += w * v * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * sumL2 > sumLx * sumLx * sl2) {
                            lq[lo + i] = (byte) newL;
                            sumLx = slx;
                            sumL2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            lq[lo + i] += (byte) nmax;
        }
        return sumL2 > 0.0f ? sumLx / sumL2 : 0.0f;
    }
}
