package dev.interlayer.tensor;

import dev.interlayer.tensor.simd.GemmKernel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain-Java {@link GemmKernel}: the path when the Vector API is absent or
 * {@code dev.interlayer.simd.bits=0}. Widens one column of B at a time and takes float dot
 * products with every row of A; parallel over columns of C.
 */
final class GemmScalar implements GemmKernel {
    static final GemmScalar INSTANCE = new GemmScalar();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private GemmScalar() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void gemm(int m, int n, int k, float[] a, int aOff, int lda,
                     MemorySegment b, DType bType, long bOff, long bsn, long bsk,
                     float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        int chunks = (2L * m * n * k) < (1L << 18) ? 1 : Math.min(n, ComputePool.threads() * 4);
        ComputePool.parallelFor(chunks, ch -> {
            int j0 = (int) ((long) n * ch / chunks), j1 = (int) ((long) n * (ch + 1) / chunks);
            float[] col = new float[k];                                    // [k]: B[:, j] widened
            for (int j = j0; j < j1; j++) {
                for (int p = 0; p < k; p++) {
                    long e = bOff + j * bsn + p * bsk;
                    col[p] = switch (bType) {
                        case F32 -> b.get(F32, e << 2);
                        case BF16 -> FloatFormats.bf16ToF32(b.get(I16, e << 1));
                        case F16 -> Float.float16ToFloat(b.get(I16, e << 1));
                        default -> throw new UnsupportedDTypeException("matmul weights", bType,
                                DType.F32, DType.F16, DType.BF16);
                    };
                }
                for (int i = 0; i < m; i++) {
                    float acc = 0;
                    int base = aOff + i * lda;
                    for (int p = 0; p < k; p++) {
                        acc += a[base + p] * col[p];
                    }
                    c[cOff + i * ldc + j] = acc;
                }
            }
        });
    }
}
