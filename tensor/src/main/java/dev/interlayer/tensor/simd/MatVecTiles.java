package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.scalar;

import java.lang.foreign.MemorySegment;

/**
 * The several-activation-row tiles of {@link MatVecVector#rows} (batched decode): four weight rows
 * w0 + t·step (t &lt; 4) against 4 or 2 activation rows, 16 or 8 vector accumulators. Each weight vector
 * is loaded (and widened from F16/BF16) once and multiplied into every activation row, so a batch of m
 * sequences reads the weights once. Every output follows the order {@link MatVecVector} states: one
 * accumulator, FMA per VL-wide k step, the lanes summed in {@link GemmSpecies#fold}'s order (on the vector,
 * {@code templates/LaneSum.inc}), then the scalar {@link #tail}.
 *
 * <p>Outputs: activation row r, weight row t at {@code c[c0 + r*ldc + t*cs]}.
 *
 * <p>Each weight vector is widened from its kind by a conditional at each use (like MatVecVector.dot1x1): the
 * per-kind loaders are small enough for C2 to inline there, and the loop-invariant kind test is hoisted; a shared
 * dispatcher method was left un-inlined in whole models and boxed its vectors.
 *
 * <p>The tiles {@link #far4x4} and {@link #far4x2} are generated at build time from
 * {@code tensor/src/main/codegen/templates/MatVecTilesUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code MatVecTilesUnrolled}.
 */
final class MatVecTiles extends MatVecTilesUnrolled {
    private MatVecTiles() {
    }

    /**
     * r + Σ_{p ∈ [kv, k)} W[p]·A[p], added in order of p (the k tail below a whole vector), W row at wj, A row
     * at ai. Floats cross this call, never vectors (a vector argument to a call C2 does not inline is boxed).
     */
    static float tail(int k, int kv, float[] a, int ai, int kind, MemorySegment w, long wj, float r) {
        for (int p = kv; p < k; p++) {
            r += scalar(kind, w, wj + p) * a[ai + p];
        }
        return r;
    }
}
