package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;

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
 *
 * <p>The kernel {@link #tile} is generated at build time from
 * {@code tensor/src/main/codegen/templates/GemmDirectTailUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code GemmDirectTailUnrolled}.
 */
final class GemmDirectTail extends GemmDirectTailUnrolled {
    /** k steps per chunk: the 12 rows' chunk (12 KB) and a pair's activations stay in L1. */
    static final int KCH = 256;

    /** Lane i ← lane i + h (mod VL), for the lane sums. */
    static final VectorShuffle<Float> ROT32 = VectorShuffle.iota(F, 32, 1, true),
            ROT16 = VectorShuffle.iota(F, 16, 1, true), ROT8 = VectorShuffle.iota(F, 8, 1, true),
            ROT4 = VectorShuffle.iota(F, 4, 1, true), ROT2 = VectorShuffle.iota(F, 2, 1, true),
            ROT1 = VectorShuffle.iota(F, 1, 1, true);

    private GemmDirectTail() {
    }

    /** Floats of {@code acc} needed for {@code tokens} rows. */
    static int accLength(int tokens) {
        return (tokens + 1) / 2 * 24 * VL;
    }
}
