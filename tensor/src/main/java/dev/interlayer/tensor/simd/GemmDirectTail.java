package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.LE;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * The last few activation rows of a {@link GemmDirectKernel} block in dot-product form, F32 weights read in
 * place: tile[r*ld + t] = Σ_p W[row_r, p]·A[t, p] for 12 weight rows (row_r = min(r, rows − 1)) and t &lt; tokens,
 * vectors along k, two activation rows at a time (24 accumulators).
 *
 * <p>Why: a 33–44-row mixture-of-experts expert otherwise computes 48 or 64 token columns. {@link GemmDotTail}
 * (on the widened rows) streams all 12 weight rows (96 KB at k = 2048) from L2 once per row pair, which made it
 * L2-bound: a 4-row tail cost ~0.6 of a whole 32-token panel. Here k runs in chunks of {@value #KCH}: each chunk
 * of the 12 rows (12 KB) is read once from L2 and then from L1 by every pair, and the pairs' accumulators wait
 * in {@code acc} between chunks (so each lane still sums its k steps in order). The lanes are summed in
 * {@link GemmSpecies#fold}'s fixed order, but on a vector (4 rotate-and-add steps): the scalar fold was ~15% of the
 * tail's time, and m = 36 / 40 went from 92–97 / 79–90 to 102–110 / 95–103 GFLOP/s (same results, bit for bit).
 */
final class GemmDirectTail {
    /** k steps per chunk: the 12 rows' chunk (12 KB) and a pair's activations stay in L1. */
    static final int KCH = 256;

    /** Lane i ← lane i + h (mod VL), for the lane sums. */
    private static final VectorShuffle<Float> ROT32 = VectorShuffle.iota(F, 32, 1, true),
            ROT16 = VectorShuffle.iota(F, 16, 1, true), ROT8 = VectorShuffle.iota(F, 8, 1, true),
            ROT4 = VectorShuffle.iota(F, 4, 1, true), ROT2 = VectorShuffle.iota(F, 2, 1, true),
            ROT1 = VectorShuffle.iota(F, 1, 1, true);

    private GemmDirectTail() {
    }

    /** Floats of {@code acc} needed for {@code tokens} rows. */
    static int accLength(int tokens) {
        return (tokens + 1) / 2 * 24 * VL;
    }

    /**
     * tile[r*ld + t] = Σ_{p &lt; kc} W[min(r, rows − 1), p]·a[a0 + t*lda + p] for r &lt; 12, t &lt; tokens (W row r at
     * element {@code w0 + r*ldw} of the F32 segment w); acc holds at least {@link #accLength} floats.
     */
    static void tile(int kc, MemorySegment w, long w0, long ldw, int rows, float[] a, int a0, int lda, int tokens,
                     float[] tile, int ld, float[] acc) {
        long b = w0 << 2, st = ldw << 2;
        long o0 = b + Math.min(0, rows - 1) * st;
        long o1 = b + Math.min(1, rows - 1) * st;
        long o2 = b + Math.min(2, rows - 1) * st;
        long o3 = b + Math.min(3, rows - 1) * st;
        long o4 = b + Math.min(4, rows - 1) * st;
        long o5 = b + Math.min(5, rows - 1) * st;
        long o6 = b + Math.min(6, rows - 1) * st;
        long o7 = b + Math.min(7, rows - 1) * st;
        long o8 = b + Math.min(8, rows - 1) * st;
        long o9 = b + Math.min(9, rows - 1) * st;
        long o10 = b + Math.min(10, rows - 1) * st;
        long o11 = b + Math.min(11, rows - 1) * st;
        FloatVector z = FloatVector.zero(F);
        int end = kc - kc % VL;
        for (int c0 = 0; c0 < end || c0 == 0; c0 += KCH) {
            int c1 = Math.min(end, c0 + KCH);
            boolean first = c0 == 0;
            for (int t = 0; t < tokens; t += 2) {
                int i0 = a0 + t * lda, i1 = a0 + Math.min(t + 1, tokens - 1) * lda, base = t / 2 * 24 * VL;
                FloatVector s0 = first ? z : FloatVector.fromArray(F, acc, base + 0 * VL);
                FloatVector u0 = first ? z : FloatVector.fromArray(F, acc, base + 1 * VL);
                FloatVector s1 = first ? z : FloatVector.fromArray(F, acc, base + 2 * VL);
                FloatVector u1 = first ? z : FloatVector.fromArray(F, acc, base + 3 * VL);
                FloatVector s2 = first ? z : FloatVector.fromArray(F, acc, base + 4 * VL);
                FloatVector u2 = first ? z : FloatVector.fromArray(F, acc, base + 5 * VL);
                FloatVector s3 = first ? z : FloatVector.fromArray(F, acc, base + 6 * VL);
                FloatVector u3 = first ? z : FloatVector.fromArray(F, acc, base + 7 * VL);
                FloatVector s4 = first ? z : FloatVector.fromArray(F, acc, base + 8 * VL);
                FloatVector u4 = first ? z : FloatVector.fromArray(F, acc, base + 9 * VL);
                FloatVector s5 = first ? z : FloatVector.fromArray(F, acc, base + 10 * VL);
                FloatVector u5 = first ? z : FloatVector.fromArray(F, acc, base + 11 * VL);
                FloatVector s6 = first ? z : FloatVector.fromArray(F, acc, base + 12 * VL);
                FloatVector u6 = first ? z : FloatVector.fromArray(F, acc, base + 13 * VL);
                FloatVector s7 = first ? z : FloatVector.fromArray(F, acc, base + 14 * VL);
                FloatVector u7 = first ? z : FloatVector.fromArray(F, acc, base + 15 * VL);
                FloatVector s8 = first ? z : FloatVector.fromArray(F, acc, base + 16 * VL);
                FloatVector u8 = first ? z : FloatVector.fromArray(F, acc, base + 17 * VL);
                FloatVector s9 = first ? z : FloatVector.fromArray(F, acc, base + 18 * VL);
                FloatVector u9 = first ? z : FloatVector.fromArray(F, acc, base + 19 * VL);
                FloatVector s10 = first ? z : FloatVector.fromArray(F, acc, base + 20 * VL);
                FloatVector u10 = first ? z : FloatVector.fromArray(F, acc, base + 21 * VL);
                FloatVector s11 = first ? z : FloatVector.fromArray(F, acc, base + 22 * VL);
                FloatVector u11 = first ? z : FloatVector.fromArray(F, acc, base + 23 * VL);
                for (int p = c0; p < c1; p += VL) {
                    long q = (long) p << 2;
                    FloatVector x0 = FloatVector.fromArray(F, a, i0 + p);
                    FloatVector x1 = FloatVector.fromArray(F, a, i1 + p);
                    FloatVector v0 = FloatVector.fromMemorySegment(F, w, o0 + q, LE);
                    s0 = v0.fma(x0, s0);
                    u0 = v0.fma(x1, u0);
                    FloatVector v1 = FloatVector.fromMemorySegment(F, w, o1 + q, LE);
                    s1 = v1.fma(x0, s1);
                    u1 = v1.fma(x1, u1);
                    FloatVector v2 = FloatVector.fromMemorySegment(F, w, o2 + q, LE);
                    s2 = v2.fma(x0, s2);
                    u2 = v2.fma(x1, u2);
                    FloatVector v3 = FloatVector.fromMemorySegment(F, w, o3 + q, LE);
                    s3 = v3.fma(x0, s3);
                    u3 = v3.fma(x1, u3);
                    FloatVector v4 = FloatVector.fromMemorySegment(F, w, o4 + q, LE);
                    s4 = v4.fma(x0, s4);
                    u4 = v4.fma(x1, u4);
                    FloatVector v5 = FloatVector.fromMemorySegment(F, w, o5 + q, LE);
                    s5 = v5.fma(x0, s5);
                    u5 = v5.fma(x1, u5);
                    FloatVector v6 = FloatVector.fromMemorySegment(F, w, o6 + q, LE);
                    s6 = v6.fma(x0, s6);
                    u6 = v6.fma(x1, u6);
                    FloatVector v7 = FloatVector.fromMemorySegment(F, w, o7 + q, LE);
                    s7 = v7.fma(x0, s7);
                    u7 = v7.fma(x1, u7);
                    FloatVector v8 = FloatVector.fromMemorySegment(F, w, o8 + q, LE);
                    s8 = v8.fma(x0, s8);
                    u8 = v8.fma(x1, u8);
                    FloatVector v9 = FloatVector.fromMemorySegment(F, w, o9 + q, LE);
                    s9 = v9.fma(x0, s9);
                    u9 = v9.fma(x1, u9);
                    FloatVector v10 = FloatVector.fromMemorySegment(F, w, o10 + q, LE);
                    s10 = v10.fma(x0, s10);
                    u10 = v10.fma(x1, u10);
                    FloatVector v11 = FloatVector.fromMemorySegment(F, w, o11 + q, LE);
                    s11 = v11.fma(x0, s11);
                    u11 = v11.fma(x1, u11);
                }
                // Written out, not through a helper taking vectors: a vector passed to a call C2 does not inline is boxed.
                s0.intoArray(acc, base + 0 * VL);
                u0.intoArray(acc, base + 1 * VL);
                s1.intoArray(acc, base + 2 * VL);
                u1.intoArray(acc, base + 3 * VL);
                s2.intoArray(acc, base + 4 * VL);
                u2.intoArray(acc, base + 5 * VL);
                s3.intoArray(acc, base + 6 * VL);
                u3.intoArray(acc, base + 7 * VL);
                s4.intoArray(acc, base + 8 * VL);
                u4.intoArray(acc, base + 9 * VL);
                s5.intoArray(acc, base + 10 * VL);
                u5.intoArray(acc, base + 11 * VL);
                s6.intoArray(acc, base + 12 * VL);
                u6.intoArray(acc, base + 13 * VL);
                s7.intoArray(acc, base + 14 * VL);
                u7.intoArray(acc, base + 15 * VL);
                s8.intoArray(acc, base + 16 * VL);
                u8.intoArray(acc, base + 17 * VL);
                s9.intoArray(acc, base + 18 * VL);
                u9.intoArray(acc, base + 19 * VL);
                s10.intoArray(acc, base + 20 * VL);
                u10.intoArray(acc, base + 21 * VL);
                s11.intoArray(acc, base + 22 * VL);
                u11.intoArray(acc, base + 23 * VL);
            }
        }
        for (int t = 0; t < tokens; t++) {
            int base = t / 2 * 24 * VL + (t & 1) * VL, x = a0 + t * lda;
            for (int r = 0; r < 12; r++) {
                // GemmSpecies.fold's order (lane i += lane i + h for h = VL/2 … 1) on a vector: same sums, fewer steps
                FloatVector v = FloatVector.fromArray(F, acc, base + 2 * r * VL);
                // up to the API's widest float vector (2048 bits, 64 lanes); VL is a constant, so C2 drops the rest
                if (VL >= 64) {
                    v = v.add(v.rearrange(ROT32));
                }
                if (VL >= 32) {
                    v = v.add(v.rearrange(ROT16));
                }
                if (VL >= 16) {
                    v = v.add(v.rearrange(ROT8));
                }
                if (VL >= 8) {
                    v = v.add(v.rearrange(ROT4));
                }
                v = v.add(v.rearrange(ROT2));
                v = v.add(v.rearrange(ROT1));
                float s = v.lane(0);
                for (int p = end; p < kc; p++) {
                    s += w.get(ValueLayout.JAVA_FLOAT_UNALIGNED, b + Math.min(r, rows - 1) * st + ((long) p << 2)) * a[x + p];
                }
                tile[r * ld + t] = s;
            }
        }
    }
}
