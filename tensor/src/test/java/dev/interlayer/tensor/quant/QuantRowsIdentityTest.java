package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.testing.PoolSizes;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Row i of an m-row quantized product is bit for bit the one-row (decode) product of activation row i,
 * for every m up to {@code GemmKernel.ROW_EXACT_MAX} (16), on 1 and 2 threads, for the formats with tile
 * kernels (Q8_0, Q4_0, Q4_K, Q6_K): batched decode must give each sequence exactly what decoding it alone
 * gives. Larger m (prefill chunks) take a faster path that is not row-exact (checked against the reference
 * by {@link QuantMatMulTest}).
 *
 * <p>Exact float equality is legitimate here, and only here: the kernels compute every output with the
 * same operations in the same order whichever tile computes it (m = 1: four or two far weight rows, or one;
 * 1 &lt; m ≤ 16: two weight rows × four activation rows or four × two, with repeated rows at the edges;
 * {@code quant.vector.TileDriver}, {@code quant.vector.BatchDriver}), so the paths are identical by
 * design, not merely close. Closeness to the reference is {@link QuantMatMulTest}'s job.
 */
class QuantRowsIdentityTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void everyRowOfABatchEqualsItsDecode(DType t) {
        PoolSizes.oneAndTwo(threads -> {
            Random r = new Random(t.ordinal() * 17L + threads);
            for (int[] nk : new int[][] {{1, 1}, {7, 3}, {13, 1}, {301, 2}}) {
                check(t, nk[0], nk[1] * BlockFormats.of(t).blockSize(), r);
            }
        });
    }

    /** n weight rows of k values; m = 1 .. 16 (GemmKernel.ROW_EXACT_MAX): every m that batched decode uses. */
    static void check(DType t, int n, int k, Random r) {
        BlockFormat f = BlockFormats.of(t);
        MemorySegment w = QuantTestData.randomRows(t, n, k, r);
        int m = dev.interlayer.tensor.simd.GemmKernel.ROW_EXACT_MAX, lda = k + 5;
        float[] a = QuantTestData.gaussian(m * lda, r);
        float[][] single = new float[m][n];
        for (int i = 0; i < m; i++) {
            QuantMatMul.matmulT(f, 1, n, k, a, i * lda, lda, w, 0, single[i], 0, n);
        }
        float[] heap = new float[n];            // heap weights take the dequantize-into-buffer path at m = 1 too
        QuantMatMul.matmulT(f, 1, n, k, a, 0, lda, QuantTestData.onHeap(w), 0, heap, 0, n);
        for (int j = 0; j < n; j++) {
            assertEquals(Float.floatToRawIntBits(single[0][j]), Float.floatToRawIntBits(heap[j]),
                    t + " n=" + n + " k=" + k + ": heap and off-heap weights differ at row " + j);
        }
        for (int rows = 1; rows <= m; rows++) {
            float[] c = new float[rows * n];
            QuantMatMul.matmulT(f, rows, n, k, a, 0, lda, w, 0, c, 0, n);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < n; j++) {
                    int ii = i, jj = j, mm = rows;
                    // identical by design (see the class comment), so compared bit for bit
                    assertEquals(Float.floatToRawIntBits(single[i][j]), Float.floatToRawIntBits(c[i * n + j]),
                            () -> t + " " + QuantMatMul.ACTIVE.name() + " n=" + n + " k=" + k + " m=" + mm
                                    + ": output [" + ii + ", " + jj + "] differs from the one-row product");
                }
            }
        }
    }
}
