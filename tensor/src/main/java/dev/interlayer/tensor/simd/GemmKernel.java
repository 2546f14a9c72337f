package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.DType;
import java.lang.foreign.MemorySegment;

/**
 * A strided single-precision matrix product C = A·B on raw segments, the engine behind
 * {@code Ops.matmulT} and {@code Ops.matmul}. Its signature mentions only JDK types and {@link DType}
 * so that the tensor package can hold a reference without loading {@code jdk.incubator.vector}.
 *
 * <p>Shapes: A [m, k] F32 at {@code a[aOff + i*lda + p]}; B [k, n] in {@code bType} (F32, F16 or BF16)
 * with element (p, j) at {@code b[bOff + j*bsn + p*bsk]} (a linear layer's weight w[n, k] has
 * {@code bsn = k, bsk = 1}); C [m, n] F32 at {@code c[cOff + i*ldc + j]}. Offsets and strides count
 * elements of the operand's dtype. C is overwritten, A and B are only read (B may be a read-only mapping).
 * C must not overlap A or B. Work is split on {@code ComputePool}.
 */
public interface GemmKernel {

    /** C[i, j] = Σ_p A[i, p]·B[p, j] for i &lt; m, j &lt; n, p &lt; k. Modifies C only. */
    void gemm(int m, int n, int k,
              MemorySegment a, long aOff, long lda,
              MemorySegment b, DType bType, long bOff, long bsn, long bsk,
              MemorySegment c, long cOff, long ldc);

    /** A short name such as "scalar" or "simd-512". */
    String name();
}
