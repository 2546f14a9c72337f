package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmWeightStream.MR;
import static dev.interlayer.tensor.simd.GemmWeightStream.NR;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;

/**
 * {@link GemmWeightStream}'s micro-kernels for F32 weights read in place, each weight broadcast straight from the
 * weight segment: tile[r*NR + t] = Σ_p W[row_r, p]·xp[xi + p*NR + t] for 12 weight rows × NR = 2 vectors of tokens
 * ({@link #micro2}), and an 8-row × 3-vector form ({@link #micro3}) for a block whose last panel would otherwise be
 * mostly padding. row_r = min(r, rows − 1): a short last group repeats its last row, whose results are not stored.
 * Each (row, token) sum runs over p in order, as in the widened kernels.
 *
 * <p>Why: widening 12 weight rows to F32 into a buffer and broadcasting from there stores every weight once and
 * reads it back from L2 (the 96 KB buffer does not fit L1); F32 weights need no widening, and read in place
 * they stream once from DRAM into the broadcasts. Per call, 64 different F32 weights, 1 thread, thread CPU time,
 * same machine one after the other (load 10–13): m = 32 over 1024×2048 71–75 → 95–110 GFLOP/s, m = 64 76–87 →
 * 96–110, m = 128 86–94 → 101–110, m = 256 90–93 → 101–111. The 3-vector panel: 44 rows 67–75 → 80–99 (was a
 * 32-token panel and a 12-row dot-product tail). The MoE layer of {@code MoePrefillTiming} (64 experts of 21–42
 * rows): 74 → 99 GFLOP/s.
 */
final class GemmDirectKernel {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Weight rows and tokens of the three-vector kernel. */
    static final int MR3 = 8, NR3 = 3 * VL;
    /**
     * Whether 12-row groups of a common row stride take a copy of {@link #micro2Any} with the stride a literal
     * ({@code -Ddev.interlayer.gemm.ws.strides=true}). Off by default: alone the copies ran 1–10% faster than
     * micro2Any (one JVM, alternating, a hot 12-row group), but in the whole GEMM (1024³, 2048³, 128/512 × 2048 ×
     * 8192 and × 8192 × 2048, 1 thread, CPU time) 36 interleaved on/off pairs gave a median of 0.99× (0.82–1.16×,
     * load 7–16), so no gain was shown where it counts.
     */
    static final boolean STRIDES = Boolean.getBoolean("dev.interlayer.gemm.ws.strides");
    /** Weight rows of one pass over the panels: a multiple of both kernels' groups, hot in L2 for the later panels. */
    private static final int SPAN = 24;

    private GemmDirectKernel() {
    }

    /**
     * Most trailing rows (after at least one whole panel) taken by {@link GemmDirectTail}; more than that, up to VL,
     * extend the last panel to three vectors. Overridable for tuning with {@code dev.interlayer.gemm.ws.directtail}.
     */
    static final int TAIL = Math.max(0, Math.min(NR - 1, Integer.getInteger("dev.interlayer.gemm.ws.directtail", 8)));

    /** Rows of an mc-row block that take the dot-product tail: the last mc mod NR if 1 … TAIL after a whole panel. */
    static int tailRows(int mc) {
        int rem = mc % NR;
        return mc > NR && rem <= TAIL ? rem : 0;
    }

    /**
     * Whether an mc-row block ends in one three-vector panel: its last NR-token panel and the rows after it, when
     * they are too many for the tail and at most VL (which would otherwise pad a whole panel).
     */
    static boolean wideLast(int mc) {
        int rem = mc % NR;
        return mc > NR && rem > TAIL && rem <= VL;
    }

    /** Two-vector panels of an mc-row block (the tokens before the three-vector panel or the tail, if any). */
    static int narrowPanels(int mc) {
        return wideLast(mc) ? mc / NR - 1 : (mc - tailRows(mc) + NR - 1) / NR;
    }

    /**
     * The block's activations as {@link #narrowPanels} NR-token panels then, if {@link #wideLast}, one NR3 panel, or
     * for a tail that {@link GemmKPairTail} takes, its k-pair panel.
     */
    static void pack(float[] xp, int mc, int kc, float[] a, int a0, int lda) {
        int narrow = narrowPanels(mc);
        for (int q = 0; q < narrow; q++) {
            ActivationPanels.pack(xp, q * kc * NR, NR, kc, a, a0 + q * NR * lda, lda, Math.min(NR, mc - q * NR));
        }
        if (wideLast(mc)) {
            ActivationPanels.pack(xp, narrow * kc * NR, NR3, kc, a, a0 + narrow * NR * lda, lda, mc - narrow * NR);
        }
        int tail = tailRows(mc);
        if (GemmKPairTail.takes(tail)) {
            GemmKPairTail.pack(xp, narrow * kc * NR, kc, a, a0 + narrow * NR * lda, lda, tail);
        }
    }

    /**
     * C rows [r0, r1) of one (MC, KC) block (activations A at a0, packed in xp) from F32 weights read in place: per
     * span of 24 weight rows, every panel (12-row groups for NR-token panels, 8-row groups for a last NR3 panel)
     * and the tail (a k-pair panel, {@link GemmKPairTail}, or the dot-product form, {@link GemmDirectTail}); the
     * span's rows stay in L2 for the panels after the first.
     */
    static void groups(int r0, int r1, int kc, int mc, float[] xp, float[] a, int a0, int lda, MemorySegment w,
                       long w0, long ldw, float[] c, int c0, int ldc, boolean accumulate, float[] tile, float[] acc) {
        int narrow = narrowPanels(mc), tail = tailRows(mc);
        boolean wide = wideLast(mc), kpair = GemmKPairTail.takes(tail);
        for (int j = r0; j < r1; j += SPAN) {
            int end = Math.min(r1, j + SPAN);
            for (int q = 0; q < narrow; q++) {
                int tokens = Math.min(NR, mc - q * NR);
                for (int jj = j; jj < end; jj += MR) {
                    int rows = Math.min(MR, end - jj);
                    micro2(kc, w, w0 + jj * ldw, ldw, rows, xp, q * kc * NR, tile);
                    GemmWeightStream.store(tile, NR, rows, tokens, c, c0 + q * NR * ldc + jj, ldc, accumulate);
                }
            }
            int t0 = narrow * NR;
            if (wide) {
                for (int jj = j; jj < end; jj += MR3) {
                    int rows = Math.min(MR3, end - jj);
                    micro3(kc, w, w0 + jj * ldw, ldw, rows, xp, narrow * kc * NR, tile);
                    GemmWeightStream.store(tile, NR3, rows, mc - t0, c, c0 + t0 * ldc + jj, ldc, accumulate);
                }
            } else if (kpair) {
                for (int jj = j; jj < end; jj += MR) {
                    int rows = Math.min(MR, end - jj);
                    GemmKPairTail.tile(kc, w, w0 + jj * ldw, ldw, rows, xp, narrow * kc * NR, tile, NR);
                    GemmWeightStream.store(tile, NR, rows, tail, c, c0 + t0 * ldc + jj, ldc, accumulate);
                }
            } else if (tail > 0) {
                for (int jj = j; jj < end; jj += MR) {
                    int rows = Math.min(MR, end - jj);
                    GemmDirectTail.tile(kc, w, w0 + jj * ldw, ldw, rows, a, a0 + t0 * lda, lda, tail, tile, NR, acc);
                    GemmWeightStream.store(tile, NR, rows, tail, c, c0 + t0 * ldc + jj, ldc, accumulate);
                }
            }
        }
    }

    /**
     * {@link #micro2Any}, by a copy with the row stride as a literal ({@code GemmStrideKernels}, generated at build
     * time by {@code tensor/src/main/codegen/GemmStrides.java}) when the group has 12 rows and ldw is one of its
     * strides. Same results bit for bit. Only with {@link #STRIDES}.
     */
    static void micro2(int kc, MemorySegment w, long w0, long ldw, int rows, float[] xp, int xi, float[] tile) {
        if (!STRIDES || rows != MR || !GemmStrideKernels.micro2(kc, w, w0, ldw, xp, xi, tile)) {
            micro2Any(kc, w, w0, ldw, rows, xp, xi, tile);
        }
    }

    /**
     * tile[r*NR + t] = Σ_{p &lt; kc} W[min(r, rows − 1), p]·xp[xi + p*NR + t] for r &lt; 12, t &lt; NR; W row r at element
     * {@code w0 + r*ldw} of the F32 segment w. Per k step 2 vector loads, 12 broadcasts from memory, 24 FMAs.
     *
     * <p>Compiled by C2 (JDK 25, AVX-512), the 12 row pointers do not fit the free general registers: the loop
     * reloads several from the stack and moves others around, ~60 instructions per 24 FMAs, which is why it runs
     * at ~80% of the FMA rate (~15 cycles per 12 cycles of FMAs). Packing each group into one contiguous stream removes
     * that, but the copy cost more than it saved with 4 token panels per block (BENCHMARKS §25); {@link #micro2}'s
     * per-stride copies remove the 12 row pointers instead.
     */
    static void micro2Any(int kc, MemorySegment w, long w0, long ldw, int rows, float[] xp, int xi, float[] tile) {
        int nr = 2 * VL;
        long b0 = w0 << 2, st = ldw << 2;
        long o0 = b0, o1 = b0 + Math.min(1, rows - 1) * st, o2 = b0 + Math.min(2, rows - 1) * st;
        long o3 = b0 + Math.min(3, rows - 1) * st, o4 = b0 + Math.min(4, rows - 1) * st;
        long o5 = b0 + Math.min(5, rows - 1) * st, o6 = b0 + Math.min(6, rows - 1) * st;
        long o7 = b0 + Math.min(7, rows - 1) * st, o8 = b0 + Math.min(8, rows - 1) * st;
        long o9 = b0 + Math.min(9, rows - 1) * st, o10 = b0 + Math.min(10, rows - 1) * st;
        long o11 = b0 + Math.min(11, rows - 1) * st;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0v = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z;
        FloatVector a6 = z, b6 = z, a7 = z, b7 = z, a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        for (int p = 0; p < kc; p++, xi += nr) {
            long q = (long) p << 2;
            FloatVector x0 = FloatVector.fromArray(F, xp, xi);
            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);
            FloatVector v = FloatVector.broadcast(F, w.get(F32, o0 + q));
            a0 = v.fma(x0, a0);
            b0v = v.fma(x1, b0v);
            v = FloatVector.broadcast(F, w.get(F32, o1 + q));
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, w.get(F32, o2 + q));
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, w.get(F32, o3 + q));
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, w.get(F32, o4 + q));
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, w.get(F32, o5 + q));
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, w.get(F32, o6 + q));
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, w.get(F32, o7 + q));
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, w.get(F32, o8 + q));
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, w.get(F32, o9 + q));
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, w.get(F32, o10 + q));
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, w.get(F32, o11 + q));
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
        }
        a0.intoArray(tile, 0);
        b0v.intoArray(tile, VL);
        a1.intoArray(tile, nr);
        b1.intoArray(tile, nr + VL);
        a2.intoArray(tile, 2 * nr);
        b2.intoArray(tile, 2 * nr + VL);
        a3.intoArray(tile, 3 * nr);
        b3.intoArray(tile, 3 * nr + VL);
        a4.intoArray(tile, 4 * nr);
        b4.intoArray(tile, 4 * nr + VL);
        a5.intoArray(tile, 5 * nr);
        b5.intoArray(tile, 5 * nr + VL);
        a6.intoArray(tile, 6 * nr);
        b6.intoArray(tile, 6 * nr + VL);
        a7.intoArray(tile, 7 * nr);
        b7.intoArray(tile, 7 * nr + VL);
        a8.intoArray(tile, 8 * nr);
        b8.intoArray(tile, 8 * nr + VL);
        a9.intoArray(tile, 9 * nr);
        b9.intoArray(tile, 9 * nr + VL);
        a10.intoArray(tile, 10 * nr);
        b10.intoArray(tile, 10 * nr + VL);
        a11.intoArray(tile, 11 * nr);
        b11.intoArray(tile, 11 * nr + VL);
    }

    /**
     * tile[r*NR3 + t] = Σ_p W[row_r, p]·xp[xi + p*NR3 + t] for 8 weight rows (row_r = min(r, rows − 1)) × NR3 = 3
     * vectors of tokens: 24 accumulators, per k step 3 vector loads and 8 broadcasts.
     */
    static void micro3(int kc, MemorySegment w, long w0, long ldw, int rows, float[] xp, int xi, float[] tile) {
        int nr = NR3;
        long b = w0 << 2, st = ldw << 2;
        long o0 = b + Math.min(0, rows - 1) * st;
        long o1 = b + Math.min(1, rows - 1) * st;
        long o2 = b + Math.min(2, rows - 1) * st;
        long o3 = b + Math.min(3, rows - 1) * st;
        long o4 = b + Math.min(4, rows - 1) * st;
        long o5 = b + Math.min(5, rows - 1) * st;
        long o6 = b + Math.min(6, rows - 1) * st;
        long o7 = b + Math.min(7, rows - 1) * st;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        FloatVector b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z, b6 = z, b7 = z;
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
        for (int p = 0; p < kc; p++, xi += nr) {
            long q = (long) p << 2;
            FloatVector x0 = FloatVector.fromArray(F, xp, xi);
            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);
            FloatVector x2 = FloatVector.fromArray(F, xp, xi + 2 * VL);
            FloatVector v;
            v = FloatVector.broadcast(F, w.get(F32, o0 + q));
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            c0 = v.fma(x2, c0);
            v = FloatVector.broadcast(F, w.get(F32, o1 + q));
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            c1 = v.fma(x2, c1);
            v = FloatVector.broadcast(F, w.get(F32, o2 + q));
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            c2 = v.fma(x2, c2);
            v = FloatVector.broadcast(F, w.get(F32, o3 + q));
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            c3 = v.fma(x2, c3);
            v = FloatVector.broadcast(F, w.get(F32, o4 + q));
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            c4 = v.fma(x2, c4);
            v = FloatVector.broadcast(F, w.get(F32, o5 + q));
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            c5 = v.fma(x2, c5);
            v = FloatVector.broadcast(F, w.get(F32, o6 + q));
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            c6 = v.fma(x2, c6);
            v = FloatVector.broadcast(F, w.get(F32, o7 + q));
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            c7 = v.fma(x2, c7);
        }
        a0.intoArray(tile, 0 * nr);
        b0.intoArray(tile, 0 * nr + VL);
        c0.intoArray(tile, 0 * nr + 2 * VL);
        a1.intoArray(tile, 1 * nr);
        b1.intoArray(tile, 1 * nr + VL);
        c1.intoArray(tile, 1 * nr + 2 * VL);
        a2.intoArray(tile, 2 * nr);
        b2.intoArray(tile, 2 * nr + VL);
        c2.intoArray(tile, 2 * nr + 2 * VL);
        a3.intoArray(tile, 3 * nr);
        b3.intoArray(tile, 3 * nr + VL);
        c3.intoArray(tile, 3 * nr + 2 * VL);
        a4.intoArray(tile, 4 * nr);
        b4.intoArray(tile, 4 * nr + VL);
        c4.intoArray(tile, 4 * nr + 2 * VL);
        a5.intoArray(tile, 5 * nr);
        b5.intoArray(tile, 5 * nr + VL);
        c5.intoArray(tile, 5 * nr + 2 * VL);
        a6.intoArray(tile, 6 * nr);
        b6.intoArray(tile, 6 * nr + VL);
        c6.intoArray(tile, 6 * nr + 2 * VL);
        a7.intoArray(tile, 7 * nr);
        b7.intoArray(tile, 7 * nr + VL);
        c7.intoArray(tile, 7 * nr + 2 * VL);
    }
}
