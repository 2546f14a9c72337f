package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import dev.interlayer.tensor.ThreadSlot;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.QuantMatMul;
import dev.interlayer.tensor.quant.QuantRows;
import dev.interlayer.tensor.simd.ActivationPanels;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Quantized products with more activation rows than {@code GemmKernel.ROW_EXACT_MAX} (prefill chunks):
 * {@code C[i, j] = Σ_p A[i, p]·dequant(W)[j, p]}, computed for speed, not to match the decode kernels bit for
 * bit (only batched decode, m ≤ 16, needs that; a 128-token prompt chunk does not).
 *
 * <p>The layout of {@code simd.GemmWeightStream} (the F32/BF16 weights' prefill path): the transposed product
 * Cᵀ = W·Aᵀ, weights the broadcast operand and activations the vector operand. The activations are packed once
 * per product, on the calling thread, as token panels {@code xp[(q·k + p)·NR + t] = A[q·NR + t, p]} (rows past
 * m zero); then per step of {@link #KC} values of k and group of {@link #MR} weight rows, the group is
 * dequantized once into a per-thread buffer [MR][kc] ({@link QuantDecode}, 96 KB at kc = 2048, in L2) and the
 * register tile runs over every token panel: MR = 12 weight rows × NR = 2 vectors of tokens, 24 FMA
 * accumulators, per k step two vector loads and twelve broadcasts, no horizontal sums. Each weight block is
 * decoded once per product (per k step) and used by every activation row.
 *
 * <p>This replaced a dot-product layout (panels of 16 dequantized rows, a 4 × 4 tile of 16 accumulators over
 * 512 values of k, then 16 horizontal sums per tile): Q4_K 58–64 and Q6_K 60–69 GFLOP/s against 86–116 and
 * 84–101 now (m = 128, 1 thread, {@code QuantKernelProbe}, BENCHMARKS.md "quantized prefill/decode"), about what
 * the BF16 weights get from {@code GemmWeightStream}.
 */
final class QuantPrefill {
    /** Weight rows per register tile. */
    static final int MR = 12;
    /** Tokens per register tile (two vectors). */
    static final int NR = 2 * VL;
    /** Most values of k per step (rounded to the format's block): the activation block, kc·NR floats a panel. */
    static final int KC = Math.max(256, Integer.getInteger("dev.interlayer.quant.kc", 2048));

    /** The packed activations, leased by the calling thread for the whole call. */
    private static final ThreadSlot<float[]> PACKED = new ThreadSlot<>();
    /** One thread's dequantized weight group [MR][kc], then its output tile [MR][NR]. */
    private static final ThreadSlot<float[]> GROUP = new ThreadSlot<>();

    private QuantPrefill() {
    }

    /**
     * The whole product, groups of MR weight rows spread over {@code threads} threads of the pool by
     * {@link QuantMatMul#split} (the activations packed first, once, on this thread). As {@code QuantRows.rows} for
     * every j &lt; n.
     */
    static void product(BlockFormat f, int m, int n, int k, float[] a, int aOff, int lda, MemorySegment w,
                        long wOff, long rowBytes, float[] c, int cOff, int ldc, int threads) {
        float[] xp = pack(m, k, a, aOff, lda);
        Packed p = Packed.SLOT.lease();
        if (p == null) {
            p = new Packed();
        }
        try {
            p.xp = xp;
            QuantMatMul.split(p, MR, f, m, n, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, threads);
        } finally {
            p.xp = null;                       // do not keep the buffer reachable from two slots
            Packed.SLOT.release(p);
            PACKED.release(xp);
        }
    }

    /** As {@code QuantRows.rows} (weight rows [j0, j1)) on this thread. */
    static void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
        float[] xp = pack(m, k, a, aOff, lda);
        try {
            groups(f, m, k, xp, w, wOff, rowBytes, c, cOff, ldc, j0, j1);
        } finally {
            PACKED.release(xp);
        }
    }

    /** The leased packing buffer holding A's rows as token panels (see the class comment). */
    private static float[] pack(int m, int k, float[] a, int aOff, int lda) {
        int panels = (m + NR - 1) / NR;
        long need = (long) panels * NR * k;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("quantized prefill of " + m + " rows of k = " + k
                    + ": the packed activations exceed 2^31 floats; use fewer rows per call");
        }
        float[] xp = PACKED.lease();
        if (xp == null || xp.length < need) {
            xp = new float[(int) need];
        }
        for (int q = 0; q < panels; q++) {           // the weight stream's panel layout, so its packing routine
            ActivationPanels.pack(xp, q * k * NR, NR, k, a, aOff + q * NR * lda, lda, Math.min(NR, m - q * NR));
        }
        return xp;
    }

    /** Weight rows [j0, j1): per step of k, each group of MR rows dequantized once and run over every token panel. */
    private static void groups(BlockFormat f, int m, int k, float[] xp, MemorySegment w, long wOff, long rowBytes,
                               float[] c, int cOff, int ldc, int j0, int j1) {
        int bs = f.blockSize();
        int kSteps = (k + KC - 1) / KC;
        int kcMax = ((k + kSteps - 1) / kSteps + bs - 1) / bs * bs;     // equal steps, whole blocks
        float[] buf = GROUP.lease();
        if (buf == null || buf.length < MR * (kcMax + NR)) {
            buf = new float[MR * (kcMax + NR)];
        }
        boolean native_ = QSpecies.NATIVE.isInstance(w);
        int tile = MR * kcMax, panels = (m + NR - 1) / NR;
        try {
            for (int pc = 0; pc < k; pc += kcMax) {
                int kc = Math.min(kcMax, k - pc);
                long bo = f.rowBytes(pc);
                for (int j = j0; j < j1; j += MR) {
                    int rows = Math.min(MR, j1 - j);
                    for (int r = 0; r < MR; r++) {
                        if (r >= rows) {
                            java.util.Arrays.fill(buf, r * kc, (r + 1) * kc, 0f);
                        } else if (native_) {
                            QuantDecode.row(f, w, wOff + (j + r) * rowBytes + bo, kc, buf, r * kc);
                        } else {                                   // heap weights (tests, fresh quantization)
                            f.dequantizeRow(w, wOff + (j + r) * rowBytes + bo, kc, buf, r * kc);
                        }
                    }
                    for (int q = 0; q < panels; q++) {
                        micro(kc, buf, xp, (q * k + pc) * NR, tile);
                        store(buf, tile, rows, Math.min(NR, m - q * NR), c, cOff + q * NR * ldc + j, ldc, pc > 0);
                    }
                }
            }
        } finally {
            GROUP.release(buf);
        }
    }

    /** C[t, r] (=, or += when accumulate) s[ts + r·NR + t] for r &lt; rows, t &lt; tokens; C[t, r] at c[ci + t·ldc + r]. */
    private static void store(float[] s, int ts, int rows, int tokens, float[] c, int ci, int ldc, boolean acc) {
        for (int t = 0; t < tokens; t++) {
            int row = ci + t * ldc;
            for (int r = 0; r < rows; r++) {
                float v = s[ts + r * NR + t];
                c[row + r] = acc ? c[row + r] + v : v;
            }
        }
    }

    /**
     * s[ts + r·NR + t] = Σ_p s[r·kc + p]·xp[xi + p·NR + t] for r &lt; MR, t &lt; NR: the group's dequantized rows
     * at the start of s, the tile after them. Written out (a helper taking vectors would box them).
     */
    private static void micro(int kc, float[] s, float[] xp, int xi, int ts) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z;
        FloatVector a6 = z, b6 = z, a7 = z, b7 = z, a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        for (int p = 0; p < kc; p++, xi += NR) {
            FloatVector x0 = FloatVector.fromArray(F, xp, xi), x1 = FloatVector.fromArray(F, xp, xi + VL);
            FloatVector v = FloatVector.broadcast(F, s[p]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, s[kc + p]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, s[2 * kc + p]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, s[3 * kc + p]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, s[4 * kc + p]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, s[5 * kc + p]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, s[6 * kc + p]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, s[7 * kc + p]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, s[8 * kc + p]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, s[9 * kc + p]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, s[10 * kc + p]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, s[11 * kc + p]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
        }
        a0.intoArray(s, ts);
        b0.intoArray(s, ts + VL);
        a1.intoArray(s, ts + NR);
        b1.intoArray(s, ts + NR + VL);
        a2.intoArray(s, ts + 2 * NR);
        b2.intoArray(s, ts + 2 * NR + VL);
        a3.intoArray(s, ts + 3 * NR);
        b3.intoArray(s, ts + 3 * NR + VL);
        a4.intoArray(s, ts + 4 * NR);
        b4.intoArray(s, ts + 4 * NR + VL);
        a5.intoArray(s, ts + 5 * NR);
        b5.intoArray(s, ts + 5 * NR + VL);
        a6.intoArray(s, ts + 6 * NR);
        b6.intoArray(s, ts + 6 * NR + VL);
        a7.intoArray(s, ts + 7 * NR);
        b7.intoArray(s, ts + 7 * NR + VL);
        a8.intoArray(s, ts + 8 * NR);
        b8.intoArray(s, ts + 8 * NR + VL);
        a9.intoArray(s, ts + 9 * NR);
        b9.intoArray(s, ts + 9 * NR + VL);
        a10.intoArray(s, ts + 10 * NR);
        b10.intoArray(s, ts + 10 * NR + VL);
        a11.intoArray(s, ts + 11 * NR);
        b11.intoArray(s, ts + 11 * NR + VL);
    }

    /** One thread's share of the rows over activations already packed ({@code a} unused); reused per calling thread. */
    private static final class Packed implements QuantRows {
        static final ThreadSlot<Packed> SLOT = new ThreadSlot<>();
        float[] xp;

        @Override
        public void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                         long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
            groups(f, m, k, xp, w, wOff, rowBytes, c, cOff, ldc, j0, j1);
        }

        @Override
        public String name() {
            return "packed-prefill";
        }
    }
}
