package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.LE;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The last 5–8 activation rows of a {@link GemmDirectKernel} block as a k-pair panel, F32 weights read in place:
 * tile[r*ld + t] = Σ_p W[row_r, p]·A[t, p] for 12 weight rows (row_r = min(r, rows − 1)) and t &lt; VL/2 tokens,
 * one vector of VL lanes = VL/2 tokens × 2 consecutive k steps. Per pair of k steps: one vector load of the packed
 * activations, 12 broadcasts of a weight pair (W[r, p], W[r, p + 1]) as one 64-bit lane pair, 12 FMAs; lane 2t sums
 * the even k steps of token t, lane 2t + 1 the odd ones, and the two are added once per tile.
 *
 * <p>Why: the rows left after the whole 32-token panels of a 37–40-row mixture-of-experts expert otherwise take
 * {@link GemmDirectTail}'s dot-product form (k along the vector, a lane fold per (row, token)) or a padded panel.
 * The k-pair panel has {@link GemmDirectKernel#micro2}'s instruction mix (broadcasts that are pure loads, no lane
 * shuffle in the loop) at 8-token granularity. It reads twice the weight bytes per FMA of a 32-token panel, but
 * the span's rows are hot in L2 from the panels before it.
 *
 * <p>Activations are packed once per block as [⌈kc/2⌉][VL/2][2] ({@link #pack}; tokens past the tail and the
 * step past an odd kc are zero). An odd kc's last step broadcasts the single weight against that zero lane, so
 * no weight past the block is read. Off with {@code -Ddev.interlayer.gemm.ws.kpair=9} (the least tail it takes).
 */
final class GemmKPairTail {
    /** Tokens per panel: two k steps share each vector. */
    static final int TOKENS = VL / 2;
    /** Least tail (trailing rows after a whole panel) that takes this panel instead of {@link GemmDirectTail}. */
    static final int MIN = Integer.getInteger("dev.interlayer.gemm.ws.kpair", 5);

    private static final VectorSpecies<Long> L =
            VectorSpecies.of(long.class, VectorShape.forBitSize(F.vectorBitSize()));
    /** A weight pair, low half first: lane 2i of the reinterpreted vector is the pair's first float. */
    private static final ValueLayout.OfLong PAIR = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /** Lane t ← lane 2t, and lane t ← lane 2t + 1 (t &lt; VL/2; the upper lanes are not used). */
    private static final VectorShuffle<Float> EVENS = VectorShuffle.fromOp(F, i -> 2 * i % VL),
            ODDS = VectorShuffle.fromOp(F, i -> (2 * i + 1) % VL);

    private GemmKPairTail() {
    }

    /** Whether a tail of this many rows takes the k-pair panel. */
    static boolean takes(int tail) {
        return tail >= Math.max(1, MIN) && tail <= TOKENS;
    }

    /** Floats of a packed k-pair panel of kc steps. */
    static int packedLength(int kc) {
        return (kc + 1) / 2 * VL;
    }

    /**
     * xk[x0 + (p/2)*VL + 2t + p mod 2] = A[t, p] = a[a0 + t*lda + p] for t &lt; tokens, p &lt; kc; zero for the
     * other tokens up to VL/2 and for p = kc when kc is odd.
     */
    static void pack(float[] xk, int x0, int kc, float[] a, int a0, int lda, int tokens) {
        java.util.Arrays.fill(xk, x0, x0 + packedLength(kc), 0f);
        for (int t = 0; t < tokens; t++) {
            int src = a0 + t * lda, dst = x0 + 2 * t;
            for (int p = 0; p < kc; p++) {
                xk[dst + (p >> 1) * VL + (p & 1)] = a[src + p];
            }
        }
    }

    /**
     * tile[r*ld + t] = Σ_{p &lt; kc} W[min(r, rows − 1), p]·A[t, p] for r &lt; 12, t &lt; VL/2, A packed by
     * {@link #pack} at xk[xi]; W row r at element {@code w0 + r*ldw} of the F32 segment w. Lanes t ≥ VL/2 of each
     * tile row are overwritten with partial sums that are not results.
     */
    static void tile(int kc, MemorySegment w, long w0, long ldw, int rows, float[] xk, int xi, float[] tile, int ld) {
        long b = w0 << 2, st = ldw << 2;
        long o0 = b, o1 = b + Math.min(1, rows - 1) * st, o2 = b + Math.min(2, rows - 1) * st;
        long o3 = b + Math.min(3, rows - 1) * st, o4 = b + Math.min(4, rows - 1) * st;
        long o5 = b + Math.min(5, rows - 1) * st, o6 = b + Math.min(6, rows - 1) * st;
        long o7 = b + Math.min(7, rows - 1) * st, o8 = b + Math.min(8, rows - 1) * st;
        long o9 = b + Math.min(9, rows - 1) * st, o10 = b + Math.min(10, rows - 1) * st;
        long o11 = b + Math.min(11, rows - 1) * st;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z, a8 = z, a9 = z, a10 = z, a11 = z;
        int pairs = kc >> 1;
        for (int p2 = 0; p2 < pairs; p2++, xi += VL) {
            long q = (long) p2 << 3;
            FloatVector x = FloatVector.fromArray(F, xk, xi);
            a0 = LongVector.broadcast(L, w.get(PAIR, o0 + q)).reinterpretAsFloats().fma(x, a0);
            a1 = LongVector.broadcast(L, w.get(PAIR, o1 + q)).reinterpretAsFloats().fma(x, a1);
            a2 = LongVector.broadcast(L, w.get(PAIR, o2 + q)).reinterpretAsFloats().fma(x, a2);
            a3 = LongVector.broadcast(L, w.get(PAIR, o3 + q)).reinterpretAsFloats().fma(x, a3);
            a4 = LongVector.broadcast(L, w.get(PAIR, o4 + q)).reinterpretAsFloats().fma(x, a4);
            a5 = LongVector.broadcast(L, w.get(PAIR, o5 + q)).reinterpretAsFloats().fma(x, a5);
            a6 = LongVector.broadcast(L, w.get(PAIR, o6 + q)).reinterpretAsFloats().fma(x, a6);
            a7 = LongVector.broadcast(L, w.get(PAIR, o7 + q)).reinterpretAsFloats().fma(x, a7);
            a8 = LongVector.broadcast(L, w.get(PAIR, o8 + q)).reinterpretAsFloats().fma(x, a8);
            a9 = LongVector.broadcast(L, w.get(PAIR, o9 + q)).reinterpretAsFloats().fma(x, a9);
            a10 = LongVector.broadcast(L, w.get(PAIR, o10 + q)).reinterpretAsFloats().fma(x, a10);
            a11 = LongVector.broadcast(L, w.get(PAIR, o11 + q)).reinterpretAsFloats().fma(x, a11);
        }
        // The raw accumulators; their lanes are paired (and an odd kc's last step added) by finish, in its own
        // method: with those in this one, C1 ran out of virtual registers compiling it (tier 3, "COMPILE SKIPPED"),
        // which left it in tier 2, unprofiled, at 0.3 GFLOP/s, never reaching C2.
        a0.intoArray(tile, 0);
        a1.intoArray(tile, ld);
        a2.intoArray(tile, 2 * ld);
        a3.intoArray(tile, 3 * ld);
        a4.intoArray(tile, 4 * ld);
        a5.intoArray(tile, 5 * ld);
        a6.intoArray(tile, 6 * ld);
        a7.intoArray(tile, 7 * ld);
        a8.intoArray(tile, 8 * ld);
        a9.intoArray(tile, 9 * ld);
        a10.intoArray(tile, 10 * ld);
        a11.intoArray(tile, 11 * ld);
        finish(kc, w, b, st, rows, xk, xi, tile, ld);
    }

    /**
     * Per tile row: adds an odd kc's last step (its weight broadcast against the pack's last lane pair, whose odd
     * lanes are zero, so no weight past the block is read), then lane t ← lane 2t + lane 2t + 1.
     */
    private static void finish(int kc, MemorySegment w, long b, long st, int rows, float[] xk, int xi, float[] tile,
                               int ld) {
        if ((kc & 1) != 0) {
            FloatVector x = FloatVector.fromArray(F, xk, xi);
            long last = (long) (kc - 1) << 2;
            for (int r = 0; r < 12; r++) {
                FloatVector v = FloatVector.broadcast(F, w.get(F32, b + Math.min(r, rows - 1) * st + last));
                v.fma(x, FloatVector.fromArray(F, tile, r * ld)).intoArray(tile, r * ld);
            }
        }
        for (int r = 0; r < 12; r++) {
            FloatVector v = FloatVector.fromArray(F, tile, r * ld);
            v.rearrange(EVENS).add(v.rearrange(ODDS)).intoArray(tile, r * ld);
        }
    }
}
