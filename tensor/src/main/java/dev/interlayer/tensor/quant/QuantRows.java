package dev.interlayer.tensor.quant;

import java.lang.foreign.MemorySegment;

/**
 * One thread's share of a quantized matrix product: output columns (weight rows) {@code [j0, j1)}.
 * Internal to the kernels; public only because the Vector API implementation lives in a sub-package
 * that is loaded lazily (so the tensor API never needs {@code jdk.incubator.vector}).
 */
public interface QuantRows {

    /**
     * {@code c[cOff + i·ldc + j] = Σ_p a[aOff + i·lda + p] · W[j, p]} for {@code i < m}, {@code j0 ≤ j < j1},
     * where row j of W is {@code k} values of format {@code f} starting at byte {@code wOff + j·rowBytes}
     * of {@code w}. Overwrites those entries of c only; allocates nothing once the thread is warm.
     */
    void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff, long rowBytes,
              float[] c, int cOff, int ldc, int j0, int j1);

    /**
     * The whole product {@code c[cOff + i·ldc + j] = Σ_p a[aOff + i·lda + p]·W[j, p]} for i &lt; m, j &lt; n, when
     * this implementation has a path for it that spreads the work over up to {@code threads} pool threads itself
     * (prefill chunks: it prepares the activations once for all threads); false when it has none and the caller
     * is to split the weight rows over the threads and call {@link #rows}.
     */
    default boolean product(BlockFormat f, int m, int n, int k, float[] a, int aOff, int lda, MemorySegment w,
                            long wOff, long rowBytes, float[] c, int cOff, int ldc, int threads) {
        return false;
    }

    /** "scalar" or "simd-&lt;bits&gt;". */
    String name();

    /** The scalar oracle: one {@link BlockFormat#dot} per output. */
    QuantRows SCALAR = new QuantRows() {
        @Override
        public void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                         long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
            for (int j = j0; j < j1; j++) {
                for (int i = 0; i < m; i++) {
                    c[cOff + i * ldc + j] = f.dot(w, wOff + j * rowBytes, k, a, aOff + i * lda);
                }
            }
        }

        @Override
        public String name() {
            return "scalar";
        }
    };
}
