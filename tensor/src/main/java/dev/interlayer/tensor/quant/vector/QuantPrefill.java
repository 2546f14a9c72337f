package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import dev.interlayer.tensor.ThreadSlot;
import dev.interlayer.tensor.quant.BlockFormat;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Quantized products with more activation rows than {@code GemmKernel.ROW_EXACT_MAX} (prefill chunks):
 * {@code C[i, j] = Σ_p A[i, p]·dequant(W)[j, p]}, computed for speed, not to match the decode kernels bit for
 * bit (only batched decode, m ≤ 16, needs that; a 128-token prompt chunk does not).
 *
 * <p>Loops, outermost first: {@link #KC} values of k (outputs accumulate over the steps); panels of
 * {@link #NB} weight rows, each dequantized once into a per-thread buffer [NB][KC] ({@link QuantDecode}, so
 * every weight byte is decoded once per product); groups of four activation rows; groups of four panel rows;
 * then a register tile of 4 × 4 outputs, 16 FMA chains, per step four weight and four activation vector
 * loads shared by the 16 FMAs (the m ≤ 16 path's one-weight-row-per-chain kernel does five loads per four
 * FMAs and is load-bound). With KC = 512 the four activation rows (8 KB) and the panel (32 KB) stay in L1
 * and the activation block in L2. Measured in {@code QuantKernelProbe} (1 thread, m = 128; see the commit
 * message for the numbers).
 */
final class QuantPrefill {
    /** Values of k per step: a multiple of every block size (32, 256). */
    static final int KC = Integer.getInteger("dev.interlayer.quant.kc", 512) / 256 * 256;
    /** Weight rows dequantized per panel. */
    static final int NB = Integer.getInteger("dev.interlayer.quant.nb", 16) / 4 * 4;
    private static final ThreadSlot<float[]> PANEL = new ThreadSlot<>();

    private QuantPrefill() {
    }

    /** As {@code QuantRows.rows} (off-heap weights); any m, meant for m &gt; 16. */
    static void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
        float[] buf = PANEL.lease();
        int kcMax = Math.min(KC, k);
        if (buf == null || buf.length < NB * kcMax) {
            buf = new float[NB * kcMax];
        }
        try {
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                long bo = f.rowBytes(pc);
                boolean acc = pc > 0;
                for (int jp = j0; jp < j1; jp += NB) {
                    int nb = Math.min(NB, j1 - jp);
                    for (int r = 0; r < nb; r++) {
                        QuantDecode.row(f, w, wOff + (jp + r) * rowBytes + bo, kc, buf, r * kc);
                    }
                    panel(m, kc, nb, a, aOff + pc, lda, buf, c, cOff + jp, ldc, acc);
                }
            }
        } finally {
            PANEL.release(buf);
        }
    }

    /** c[ci + i·ldc + r] (+)= Σ_p a[ai + i·lda + p]·buf[r·kc + p] for i &lt; m, r &lt; nb. */
    private static void panel(int m, int kc, int nb, float[] a, int ai, int lda, float[] buf, float[] c, int ci,
                              int ldc, boolean acc) {
        int m4 = m & ~3, nb4 = nb & ~3;
        for (int i = 0; i < m; i += 4) {
            for (int r = 0; r < nb; r += 4) {
                if (i < m4 && r < nb4) {
                    tile(kc, a, ai + i * lda, lda, buf, r * kc, c, ci + i * ldc + r, ldc, acc);
                } else {
                    for (int ii = i; ii < Math.min(m, i + 4); ii++) {
                        for (int rr = r; rr < Math.min(nb, r + 4); rr++) {
                            float s = dot(kc, a, ai + ii * lda, buf, rr * kc);
                            int o = ci + ii * ldc + rr;
                            c[o] = acc ? c[o] + s : s;
                        }
                    }
                }
            }
        }
    }

    /** The 4 × 4 register tile: activation rows x0 + i·lda, weight rows w0 + r·kc. */
    private static void tile(int kc, float[] a, int x0, int lda, float[] w, int w0, float[] c, int ci, int ldc,
                             boolean acc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
        int x1 = x0 + lda, x2 = x1 + lda, x3 = x2 + lda, w1 = w0 + kc, w2 = w1 + kc, w3 = w2 + kc;
        for (int p = 0; p < kc; p += VL) {
            FloatVector b0 = FloatVector.fromArray(F, w, w0 + p), b1 = FloatVector.fromArray(F, w, w1 + p);
            FloatVector b2 = FloatVector.fromArray(F, w, w2 + p), b3 = FloatVector.fromArray(F, w, w3 + p);
            FloatVector x = FloatVector.fromArray(F, a, x0 + p);
            s00 = b0.fma(x, s00);
            s01 = b1.fma(x, s01);
            s02 = b2.fma(x, s02);
            s03 = b3.fma(x, s03);
            x = FloatVector.fromArray(F, a, x1 + p);
            s10 = b0.fma(x, s10);
            s11 = b1.fma(x, s11);
            s12 = b2.fma(x, s12);
            s13 = b3.fma(x, s13);
            x = FloatVector.fromArray(F, a, x2 + p);
            s20 = b0.fma(x, s20);
            s21 = b1.fma(x, s21);
            s22 = b2.fma(x, s22);
            s23 = b3.fma(x, s23);
            x = FloatVector.fromArray(F, a, x3 + p);
            s30 = b0.fma(x, s30);
            s31 = b1.fma(x, s31);
            s32 = b2.fma(x, s32);
            s33 = b3.fma(x, s33);
        }
        // written out, not through a helper taking vectors (C2 leaves such a helper out of line and boxes them)
        int c1 = ci + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        float t00 = s00.reduceLanes(VectorOperators.ADD), t01 = s01.reduceLanes(VectorOperators.ADD);
        float t02 = s02.reduceLanes(VectorOperators.ADD), t03 = s03.reduceLanes(VectorOperators.ADD);
        float t10 = s10.reduceLanes(VectorOperators.ADD), t11 = s11.reduceLanes(VectorOperators.ADD);
        float t12 = s12.reduceLanes(VectorOperators.ADD), t13 = s13.reduceLanes(VectorOperators.ADD);
        float t20 = s20.reduceLanes(VectorOperators.ADD), t21 = s21.reduceLanes(VectorOperators.ADD);
        float t22 = s22.reduceLanes(VectorOperators.ADD), t23 = s23.reduceLanes(VectorOperators.ADD);
        float t30 = s30.reduceLanes(VectorOperators.ADD), t31 = s31.reduceLanes(VectorOperators.ADD);
        float t32 = s32.reduceLanes(VectorOperators.ADD), t33 = s33.reduceLanes(VectorOperators.ADD);
        if (acc) {
            t00 += c[ci];
            t01 += c[ci + 1];
            t02 += c[ci + 2];
            t03 += c[ci + 3];
            t10 += c[c1];
            t11 += c[c1 + 1];
            t12 += c[c1 + 2];
            t13 += c[c1 + 3];
            t20 += c[c2];
            t21 += c[c2 + 1];
            t22 += c[c2 + 2];
            t23 += c[c2 + 3];
            t30 += c[c3];
            t31 += c[c3 + 1];
            t32 += c[c3 + 2];
            t33 += c[c3 + 3];
        }
        c[ci] = t00;
        c[ci + 1] = t01;
        c[ci + 2] = t02;
        c[ci + 3] = t03;
        c[c1] = t10;
        c[c1 + 1] = t11;
        c[c1 + 2] = t12;
        c[c1 + 3] = t13;
        c[c2] = t20;
        c[c2 + 1] = t21;
        c[c2 + 2] = t22;
        c[c2 + 3] = t23;
        c[c3] = t30;
        c[c3 + 1] = t31;
        c[c3 + 2] = t32;
        c[c3 + 3] = t33;
    }

    /** Σ_p a[ai + p]·w[wi + p] over kc values (a multiple of 16): the edge rows and columns. */
    private static float dot(int kc, float[] a, int ai, float[] w, int wi) {
        FloatVector s = FloatVector.zero(F);
        for (int p = 0; p < kc; p += VL) {
            s = FloatVector.fromArray(F, w, wi + p).fma(FloatVector.fromArray(F, a, ai + p), s);
        }
        return s.reduceLanes(VectorOperators.ADD);
    }
}
