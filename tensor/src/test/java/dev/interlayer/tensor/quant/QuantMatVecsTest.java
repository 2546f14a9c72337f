package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link QuantMatVecs}: several decode products of one activation row in one parallel region. Each output is computed
 * by the same {@code QuantRows.rows} sequence as a separate {@link QuantMatMul#matmulT} (the decode tiles give a row the
 * same operations whatever range it falls in), so the two are compared bit for bit; the separate products are checked
 * against the scalar oracle elsewhere ({@code QuantMatMulTest}, {@code QuantRowsIdentityTest}).
 */
class QuantMatVecsTest {
    private static final int[][] SHAPES = {{300, 37, 5}, {1, 64}, {0, 130, 9, 256}};

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q6_K", "Q5_K"})
    void groupEqualsSeparateProducts(DType t) {
        BlockFormat f = BlockFormats.of(t);
        int before = ComputePool.threads();
        try {
            for (int threads = 1; threads <= 3; threads++) {
                ComputePool.setThreads(threads);
                for (int[] ns : SHAPES) {
                    for (int k : new int[] {256, 512}) {
                        check(f, ns, k, new Random(31L * threads + k + ns.length + t.ordinal()), threads);
                    }
                }
            }
        } finally {
            ComputePool.setThreads(before);
        }
    }

    private static void check(BlockFormat f, int[] ns, int k, Random r, int threads) {
        int xOff = 3, pad = 5;
        float[] x = QuantTestData.gaussian(xOff + k, r);
        MemorySegment[] ws = new MemorySegment[ns.length];
        float[][] got = new float[ns.length][], want = new float[ns.length][];
        QuantMatVecs g = QuantMatVecs.lease();
        for (int i = 0; i < ns.length; i++) {
            ws[i] = QuantTestData.randomRows(f.dtype(), ns[i] + 1, k, r);
            long wOff = f.rowBytes(k);                 // the second row on: a weight not at byte 0
            got[i] = new float[ns[i] + 2 * pad];
            java.util.Arrays.fill(got[i], Float.NaN);
            want[i] = new float[ns[i]];
            QuantMatMul.matmulT(f, 1, ns[i], k, x, xOff, k, ws[i], wOff, want[i], 0, ns[i]);
            g.add(f, ns[i], ws[i], wOff, got[i], pad);
        }
        g.run(k, x, xOff);
        for (int i = 0; i < ns.length; i++) {
            String at = f.dtype() + " threads=" + threads + " k=" + k + " product " + i + " of n=" + ns[i];
            for (int j = 0; j < ns[i]; j++) {
                assertEquals(Float.floatToIntBits(want[i][j]), Float.floatToIntBits(got[i][pad + j]), at + " row " + j);
            }
            for (int j = 0; j < pad; j++) {
                assertEquals(Float.NaN, got[i][j], at + ": wrote before its output");
                assertEquals(Float.NaN, got[i][pad + ns[i] + j], at + ": wrote past its output");
            }
        }
    }

    /** The route {@code nn} takes (q/k/v, gate/up): {@code Ops.matmulT(x, ws[], outs[])} on quantized tensors. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_K"})
    void sharedInputMatmulTOnQuantizedTensors(DType t) {
        int before = ComputePool.threads();
        ComputePool.setThreads(2);
        try {
            Random r = new Random(5 + t.ordinal());
            int k = 512;
            int[] ns = {512, 128, 128};
            Tensor x = Tensor.wrap(QuantTestData.gaussian(k, r), Shape.of(1, k));
            Tensor[] ws = new Tensor[ns.length], outs = new Tensor[ns.length];
            for (int i = 0; i < ns.length; i++) {
                ws[i] = Tensor.of(t, Shape.of(ns[i], k), QuantTestData.randomRows(t, ns[i], k, r));
                outs[i] = Tensor.zeros(1, ns[i]);
            }
            Ops.matmulT(x, ws, outs);
            for (int i = 0; i < ns.length; i++) {
                Tensor want = Ops.matmulT(x, ws[i], Tensor.zeros(1, ns[i]));
                for (int j = 0; j < ns[i]; j++) {
                    assertEquals(Float.floatToIntBits(want.getFloat(0, j)), Float.floatToIntBits(outs[i].getFloat(0, j)),
                            t + " product " + i + " row " + j);
                }
            }
        } finally {
            ComputePool.setThreads(before);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0"})
    void rejectsMoreThanMaxProductsAndBadK(DType t) {
        BlockFormat f = BlockFormats.of(t);
        MemorySegment w = QuantTestData.randomRows(t, 1, 32, new Random(1));
        QuantMatVecs g = QuantMatVecs.lease();
        for (int i = 0; i < QuantMatVecs.MAX; i++) {
            g.add(f, 1, w, 0, new float[1], 0);
        }
        assertThrows(IllegalStateException.class, () -> g.add(f, 1, w, 0, new float[1], 0));
        assertThrows(IllegalArgumentException.class, () -> g.run(33, new float[33], 0));
    }
}
