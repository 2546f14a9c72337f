package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * A strided single-precision matrix product C = A·B on raw segments, the engine behind
 * {@code Ops.matmulT} and {@code Ops.matmul}. Its signature mentions only JDK types and {@link DType}
 * so that the tensor package can hold a reference without loading {@code jdk.incubator.vector}.
 *
 * <p>Shapes: A [m, k] at {@code a[aOff + i*lda + p]}; B [k, n] in {@code bType} (F32, F16 or BF16)
 * with element (p, j) at {@code b[bOff + j*bsn + p*bsk]} (a linear layer's weight w[n, k] has
 * {@code bsn = k, bsk = 1}), offsets and strides in elements of {@code bType}; C [m, n] at
 * {@code c[cOff + i*ldc + j]}. Activations and outputs are heap arrays and only the weights a segment
 * (heap, native or a read-only mapping): the JIT compiles segment access well when one call site sees
 * one kind of segment, and mixing heap activations with mapped weights in the same loads cost 3x in
 * our measurements. C is overwritten and must not overlap A. Work is split on {@code ComputePool}.
 */
public interface GemmKernel {
    /**
     * Up to this many rows of A, a product whose B has unit k stride (a linear layer's weight) computes each
     * row of C exactly as it computes that row alone: bit for bit, whatever the other rows, the row's place
     * among them and the thread count (the reduction order over k depends on k only). Batched decode relies
     * on it to equal single decode.
     */
    int ROW_EXACT_MAX = 16;

    /** C[i, j] = Σ_p A[i, p]·B[p, j] for i &lt; m, j &lt; n, p &lt; k. Modifies C only. */
    void gemm(int m, int n, int k,
              float[] a, int aOff, int lda,
              MemorySegment b, DType bType, long bOff, long bsn, long bsk,
              float[] c, int cOff, int ldc);

    /**
     * Several matrix-vector products sharing one input: outs[i][0, j] = Σ_p a[aOff + p]·ws[i][j, p], for
     * Q/K/V or gate/up projections. One parallel region for all of them (their rows split over the
     * threads together) instead of one per product. The caller has checked shapes and dtypes.
     *
     * <p>Shapes: a [k]; ws[i] [n_i, k] F32/F16/BF16 with unit k stride; outs[i] [1, n_i] writable heap F32
     * with unit stride, not overlapping a. Modifies outs only.
     */
    default void matvecs(int k, float[] a, int aOff, Tensor[] ws, Tensor[] outs) {
        for (int i = 0; i < ws.length; i++) {
            Tensor w = ws[i], c = outs[i];
            gemm(1, w.dim(0), k, a, aOff, k, w.segment(), w.dtype(), w.offset(), w.stride(0), w.stride(1),
                    c.heapFloats(), heapIndex(c), c.dim(-1));
        }
    }

    /**
     * Several products sharing one input: outs[i][r, j] = Σ_p A[r, p]·ws[i][j, p] for r &lt; m, A [m, k] at
     * {@code a[aOff + r*lda + p]} (gate and up of a gated MLP over a prefill or an expert's tokens). Each output
     * is bit for bit what {@link #gemm} gives for that weight alone; an implementation may share work between
     * the products (the vector one packs each activation block once for all of them).
     *
     * <p>Shapes: ws[i] [n_i, k] F32/F16/BF16 with unit k stride; outs[i] writable heap F32 [m, n_i] with unit
     * column stride, not overlapping a. The caller has checked shapes and dtypes. Modifies outs only.
     */
    default void gemms(int m, int k, float[] a, int aOff, int lda, Tensor[] ws, Tensor[] outs) {
        for (int i = 0; i < ws.length; i++) {
            Tensor w = ws[i], c = outs[i];
            gemm(m, w.dim(0), k, a, aOff, lda, w.segment(), w.dtype(), w.offset(), w.stride(0), w.stride(1),
                    c.heapFloats(), heapIndex(c), Math.toIntExact(c.stride(0)));
        }
    }

    /** Index in {@code t.heapFloats()} of t's first element (a heap segment's address is its offset in the array). */
    static int heapIndex(Tensor t) {
        return Math.toIntExact(t.segment().address() / Float.BYTES + t.offset());
    }

    /** A short name such as "scalar" or "simd-512". */
    String name();
}
