package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The last few activation rows of a {@link GemmWeightStream} block in dot-product form:
 * tile[r*ld + t] = Σ_p wb[r*kc + p]·A[t, p] for the 12 widened weight rows r and t &lt; tokens, with vectors
 * along k instead of along the tokens.
 *
 * <p>Why: the weight-stream micro-kernel puts tokens in vector lanes, two vectors at a time, so 33 rows cost
 * as much as 64 (the second panel is zero padding). A mixture-of-experts layer gives each expert about
 * T·k/E rows (32 for 256 tokens, top-8 of 64), so that padding was a large part of its prefill arithmetic.
 * Here the cost follows the rows: per VL k steps two activation rows and 12 weight rows are loaded and 24
 * FMAs done (as many useful products per FMA as the panel kernel), then each accumulator is summed across
 * lanes once per row pair. The weight rows are re-read from cache for every pair, which is why only tails
 * up to {@link #MAX_TOKENS} rows come here.
 *
 * <p>Overridable for tuning with {@code dev.interlayer.gemm.ws.tail} (0 = always pad).
 */
final class GemmDotTail {
    /** Most trailing rows taken in dot-product form. */
    static final int MAX_TOKENS = Math.max(0, Math.min(GemmWeightStream.NR - 1,
            Integer.getInteger("dev.interlayer.gemm.ws.tail", 12)));

    private GemmDotTail() {
    }

    /**
     * tile[r*ld + t] = Σ_{p &lt; kc} wb[r*kc + p]·a[a0 + t*lda + p] for r &lt; 12 and t &lt; tokens; the other
     * tile entries are left as they were.
     */
    static void tile(int kc, float[] wb, float[] a, int a0, int lda, int tokens, float[] tile, int ld) {
        for (int t = 0; t < tokens; t += 2) {
            pair(kc, wb, a, a0 + t * lda, a0 + Math.min(t + 1, tokens - 1) * lda, t, t + 1 < tokens, tile, ld);
        }
    }

    // Rows i0 and i1 (i1 = i0 for a lone last row, then not stored) against the 12 weight rows.
    private static void pair(int kc, float[] wb, float[] a, int i0, int i1, int t, boolean second, float[] tile,
                             int ld) {
        FloatVector z = FloatVector.zero(F);
        FloatVector s0 = z, u0 = z, s1 = z, u1 = z, s2 = z, u2 = z, s3 = z, u3 = z, s4 = z, u4 = z, s5 = z, u5 = z;
        FloatVector s6 = z, u6 = z, s7 = z, u7 = z, s8 = z, u8 = z, s9 = z, u9 = z, s10 = z, u10 = z, s11 = z, u11 = z;
        int r1 = 1 * kc, r2 = 2 * kc, r3 = 3 * kc, r4 = 4 * kc, r5 = 5 * kc, r6 = 6 * kc, r7 = 7 * kc, r8 = 8 * kc, r9 = 9 * kc, r10 = 10 * kc, r11 = 11 * kc;
        int end = kc - kc % VL;
        int p = 0;
        for (; p < end; p += VL) {
            FloatVector x0 = FloatVector.fromArray(F, a, i0 + p);
            FloatVector x1 = FloatVector.fromArray(F, a, i1 + p);
            FloatVector w0 = FloatVector.fromArray(F, wb, p);
            s0 = w0.fma(x0, s0);
            u0 = w0.fma(x1, u0);
            FloatVector w1 = FloatVector.fromArray(F, wb, r1 + p);
            s1 = w1.fma(x0, s1);
            u1 = w1.fma(x1, u1);
            FloatVector w2 = FloatVector.fromArray(F, wb, r2 + p);
            s2 = w2.fma(x0, s2);
            u2 = w2.fma(x1, u2);
            FloatVector w3 = FloatVector.fromArray(F, wb, r3 + p);
            s3 = w3.fma(x0, s3);
            u3 = w3.fma(x1, u3);
            FloatVector w4 = FloatVector.fromArray(F, wb, r4 + p);
            s4 = w4.fma(x0, s4);
            u4 = w4.fma(x1, u4);
            FloatVector w5 = FloatVector.fromArray(F, wb, r5 + p);
            s5 = w5.fma(x0, s5);
            u5 = w5.fma(x1, u5);
            FloatVector w6 = FloatVector.fromArray(F, wb, r6 + p);
            s6 = w6.fma(x0, s6);
            u6 = w6.fma(x1, u6);
            FloatVector w7 = FloatVector.fromArray(F, wb, r7 + p);
            s7 = w7.fma(x0, s7);
            u7 = w7.fma(x1, u7);
            FloatVector w8 = FloatVector.fromArray(F, wb, r8 + p);
            s8 = w8.fma(x0, s8);
            u8 = w8.fma(x1, u8);
            FloatVector w9 = FloatVector.fromArray(F, wb, r9 + p);
            s9 = w9.fma(x0, s9);
            u9 = w9.fma(x1, u9);
            FloatVector w10 = FloatVector.fromArray(F, wb, r10 + p);
            s10 = w10.fma(x0, s10);
            u10 = w10.fma(x1, u10);
            FloatVector w11 = FloatVector.fromArray(F, wb, r11 + p);
            s11 = w11.fma(x0, s11);
            u11 = w11.fma(x1, u11);
        }
        // Written out, not through a helper taking vectors: a vector passed to a call C2 does not inline is boxed.
        tile[0 * ld + t] = s0.reduceLanes(VectorOperators.ADD) + rest(wb, 0 * kc, a, i0, p, kc);
        tile[1 * ld + t] = s1.reduceLanes(VectorOperators.ADD) + rest(wb, 1 * kc, a, i0, p, kc);
        tile[2 * ld + t] = s2.reduceLanes(VectorOperators.ADD) + rest(wb, 2 * kc, a, i0, p, kc);
        tile[3 * ld + t] = s3.reduceLanes(VectorOperators.ADD) + rest(wb, 3 * kc, a, i0, p, kc);
        tile[4 * ld + t] = s4.reduceLanes(VectorOperators.ADD) + rest(wb, 4 * kc, a, i0, p, kc);
        tile[5 * ld + t] = s5.reduceLanes(VectorOperators.ADD) + rest(wb, 5 * kc, a, i0, p, kc);
        tile[6 * ld + t] = s6.reduceLanes(VectorOperators.ADD) + rest(wb, 6 * kc, a, i0, p, kc);
        tile[7 * ld + t] = s7.reduceLanes(VectorOperators.ADD) + rest(wb, 7 * kc, a, i0, p, kc);
        tile[8 * ld + t] = s8.reduceLanes(VectorOperators.ADD) + rest(wb, 8 * kc, a, i0, p, kc);
        tile[9 * ld + t] = s9.reduceLanes(VectorOperators.ADD) + rest(wb, 9 * kc, a, i0, p, kc);
        tile[10 * ld + t] = s10.reduceLanes(VectorOperators.ADD) + rest(wb, 10 * kc, a, i0, p, kc);
        tile[11 * ld + t] = s11.reduceLanes(VectorOperators.ADD) + rest(wb, 11 * kc, a, i0, p, kc);
        if (second) {
            tile[0 * ld + t + 1] = u0.reduceLanes(VectorOperators.ADD) + rest(wb, 0 * kc, a, i1, p, kc);
            tile[1 * ld + t + 1] = u1.reduceLanes(VectorOperators.ADD) + rest(wb, 1 * kc, a, i1, p, kc);
            tile[2 * ld + t + 1] = u2.reduceLanes(VectorOperators.ADD) + rest(wb, 2 * kc, a, i1, p, kc);
            tile[3 * ld + t + 1] = u3.reduceLanes(VectorOperators.ADD) + rest(wb, 3 * kc, a, i1, p, kc);
            tile[4 * ld + t + 1] = u4.reduceLanes(VectorOperators.ADD) + rest(wb, 4 * kc, a, i1, p, kc);
            tile[5 * ld + t + 1] = u5.reduceLanes(VectorOperators.ADD) + rest(wb, 5 * kc, a, i1, p, kc);
            tile[6 * ld + t + 1] = u6.reduceLanes(VectorOperators.ADD) + rest(wb, 6 * kc, a, i1, p, kc);
            tile[7 * ld + t + 1] = u7.reduceLanes(VectorOperators.ADD) + rest(wb, 7 * kc, a, i1, p, kc);
            tile[8 * ld + t + 1] = u8.reduceLanes(VectorOperators.ADD) + rest(wb, 8 * kc, a, i1, p, kc);
            tile[9 * ld + t + 1] = u9.reduceLanes(VectorOperators.ADD) + rest(wb, 9 * kc, a, i1, p, kc);
            tile[10 * ld + t + 1] = u10.reduceLanes(VectorOperators.ADD) + rest(wb, 10 * kc, a, i1, p, kc);
            tile[11 * ld + t + 1] = u11.reduceLanes(VectorOperators.ADD) + rest(wb, 11 * kc, a, i1, p, kc);
        }
    }

    // Σ_{q in [p, kc)} wb[w + q]·a[x + q]: the k steps past the last whole vector.
    private static float rest(float[] wb, int w, float[] a, int x, int p, int kc) {
        float s = 0f;
        for (int q = p; q < kc; q++) {
            s += wb[w + q] * a[x + q];
        }
        return s;
    }
}
