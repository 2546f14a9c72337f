package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Quantized weight tensors through the tensor API that nn.Linear and the embedding use:
 * {@link Ops#matmulT} on a quantized [n, k] weight against the same product with the weight
 * dequantized to F32 (tolerance as in {@link QuantMatMulTest}: reordered single-precision sums), and
 * {@link Ops#embedding} on a quantized table, bit-identical to {@link BlockFormat#dequantizeRow}.
 */
class QuantTensorOpsTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K",
            "Q4_K", "Q5_K", "Q6_K", "IQ4_XS"})
    void matmulTAndEmbeddingOnQuantizedTensors(DType t) {
        BlockFormat f = BlockFormats.of(t);
        Random r = new Random(77 + t.ordinal());
        int n = 9, k = 2 * f.blockSize(), m = 3;
        MemorySegment seg = QuantTestData.randomRows(t, n, k, r);
        Tensor w = Tensor.of(t, Shape.of(n, k), seg);
        float[] deq = new float[n * k];
        f.dequantizeRow(seg, 0, n * k, deq, 0);
        Tensor wf = Tensor.wrap(deq, Shape.of(n, k));
        Tensor x = Tensor.wrap(QuantTestData.gaussian(m * k, r), Shape.of(m, k));
        Tensor got = Ops.matmulT(x, w, Tensor.zeros(m, n)), want = Ops.matmulT(x, wf, Tensor.zeros(m, n));
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double mag = 0, amax = 0;
                for (int p = 0; p < k; p++) {
                    amax = Math.max(amax, Math.abs(deq[j * k + p]));
                }
                for (int p = 0; p < k; p++) {
                    mag += (Math.abs(deq[j * k + p]) + amax) * Math.abs(x.getFloat(i, p));
                }
                assertEquals(want.getFloat(i, j), got.getFloat(i, j), 8 * (k + 8) * 0x1p-24 * mag,
                        t + " [" + i + "," + j + "]");
            }
        }
        int[] ids = {4, 0, 8, 4};
        Tensor emb = Ops.embedding(w, ids, Tensor.zeros(ids.length, k));
        for (int i = 0; i < ids.length; i++) {
            for (int p = 0; p < k; p++) {
                assertEquals(Float.floatToIntBits(deq[ids[i] * k + p]), Float.floatToIntBits(emb.getFloat(i, p)));
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> Ops.embedding(w, new int[] {n}, Tensor.zeros(1, k)));
    }
}
