package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.LE;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
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
 *
 * <p>The written-out kernel {@link #tile} is generated at build time from
 * {@code tensor/src/main/codegen/templates/GemmKPairTailUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code GemmKPairTailUnrolled}.
 */
final class GemmKPairTail extends GemmKPairTailUnrolled {
    /** Tokens per panel: two k steps share each vector. */
    static final int TOKENS = VL / 2;
    /** Least tail (trailing rows after a whole panel) that takes this panel instead of {@link GemmDirectTail}. */
    static final int MIN = Integer.getInteger("dev.interlayer.gemm.ws.kpair", 5);

    static final VectorSpecies<Long> L =
            VectorSpecies.of(long.class, VectorShape.forBitSize(F.vectorBitSize()));
    /** A weight pair, low half first: lane 2i of the reinterpreted vector is the pair's first float. */
    static final ValueLayout.OfLong PAIR = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
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
     * Per tile row: adds an odd kc's last step (its weight broadcast against the pack's last lane pair, whose odd
     * lanes are zero, so no weight past the block is read), then lane t ← lane 2t + lane 2t + 1. The end of
     * {@link #tile}.
     */
    static void finish(int kc, MemorySegment w, long b, long st, int rows, float[] xk, int xi, float[] tile,
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
