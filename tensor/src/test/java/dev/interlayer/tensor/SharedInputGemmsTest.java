package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.interlayer.tensor.simd.GemmKernel;
import dev.interlayer.tensor.simd.GemmVector;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code matmulT(x, ws[], outs[])} with several activation rows, which hands gate and up to
 * {@link GemmKernel#gemms} (the vector kernel packs each activation block once for both weights): against a double
 * oracle, and against one {@code matmulT} per weight.
 *
 * <p>Oracle tolerance as in {@code WeightStreamEdgesTest}: any order of k float products is within γ_k·Σ|x||w| of
 * the exact sum (γ_k ≈ k·u, u = 2⁻²⁴), and narrowing the double oracle adds u·Σ|x||w|: allowed (k + 2)·u·Σ|x||w|.
 * The oracle ({@link GemmCheck#compare}) reads the same rounded BF16 weights. Against one product per weight the comparison is exact: that is
 * {@link GemmKernel#gemms}'s contract (the same kernels over the same packed values, not another summation order).
 */
class SharedInputGemmsTest {
    private final int threads = ComputePool.threads();

    @AfterEach
    void restoreThreads() {
        ComputePool.setThreads(threads);
    }

    @Test
    void gateAndUpMatchTheOracleAndTheSeparateProducts() {
        GemmKernel[] kernels = {new GemmVector(), GemmScalar.INSTANCE};
        // m around the dot-product hand-over (16/17), the tail and 3-vector panel (33, 45), the MC block (129);
        // odd n around the 12-row group; odd k, and 2100 = two k blocks (C accumulated)
        int[][] shapes = {{0, 13, 17}, {1, 13, 17}, {17, 25, 31}, {33, 13, 301}, {45, 7, 17}, {33, 25, 2100},
            {129, 11, 65}, {64, 37, 300}, {21, 1, 19}};
        SplittableRandom pick = new SplittableRandom(0x6A7E);
        int cases = 0;
        for (int t : new int[] {1, 2}) {
            ComputePool.setThreads(t);
            for (GemmKernel kernel : kernels) {
                for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                    for (int[] s : shapes) {
                        check(kernel, dt, s[0], s[1], s[2], pick.nextLong(), t);
                        cases++;
                    }
                }
            }
        }
        assertTrue(cases > 0);
    }

    private static void check(GemmKernel kernel, DType dt, int m, int n, int k, long seed, int threads) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = GemmCheck.gaussian(rng, DType.F32, m, k);
        Tensor[] ws = new Tensor[2], outs = new Tensor[2];
        for (int w = 0; w < 2; w++) {
            ws[w] = Tensor.allocate(Arena.ofAuto(), dt, Shape.of(n, k));     // native, as a loaded model's
            ws[w].copyFrom(GemmCheck.gaussian(rng, dt, n, k));
            outs[w] = GemmCheck.gaussian(rng, DType.F32, m, n);             // stale values must be overwritten
        }
        MatMul.matmulT(x, ws, outs, kernel);
        String what = kernel.name() + " " + dt + " m=" + m + " n=" + n + " k=" + k + " threads=" + threads;
        for (int w = 0; w < 2; w++) {
            Tensor alone = Tensor.zeros(m, n);
            MatMul.matmulT(x, ws[w], alone, kernel);
            assertArrayEquals(alone.heapFloats(), outs[w].heapFloats(), what + ": weight " + w
                    + " differs from its product alone");
            String err = GemmCheck.compare(x, ws[w].transpose(0, 1), outs[w], new double[1]);
            if (err != null) {
                fail(what + ": weight " + w + " " + err);
            }
        }
    }
}
