package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.interlayer.tensor.simd.GemmKernel;
import dev.interlayer.tensor.simd.GemmVector;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
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
 * The oracle reads the same rounded BF16 weights. Against one product per weight the comparison is exact: that is
 * {@link GemmKernel#gemms}'s contract (the same kernels over the same packed values, not another summation order).
 */
class SharedInputGemmsTest {
    private static final double U = 0x1p-24;
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
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        Tensor xt = Tensor.wrap(x, Shape.of(m, k));
        Tensor[] ws = new Tensor[2];
        float[][] wv = new float[2][n * k];       // stored (rounded) weight values, for the oracle
        for (int w = 0; w < 2; w++) {
            ws[w] = Tensor.allocate(Arena.ofAuto(), dt, Shape.of(n, k));     // native, as a loaded model's
            for (int i = 0; i < n * k; i++) {
                float v = (float) rng.nextGaussian();
                if (dt == DType.F32) {
                    ws[w].segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                    wv[w][i] = v;
                } else {
                    short h = (short) (Float.floatToRawIntBits(v) >>> 16);
                    ws[w].segment().setAtIndex(ValueLayout.JAVA_SHORT, i, h);
                    wv[w][i] = Float.intBitsToFloat(h << 16);
                }
            }
        }
        float[][] c = {new float[m * n], new float[m * n]};
        java.util.Arrays.fill(c[0], Float.NaN);
        java.util.Arrays.fill(c[1], Float.NaN);
        MatMul.matmulT(xt, ws, new Tensor[] {Tensor.wrap(c[0], Shape.of(m, n)), Tensor.wrap(c[1], Shape.of(m, n))},
                kernel);
        String what = kernel.name() + " " + dt + " m=" + m + " n=" + n + " k=" + k + " threads=" + threads;
        for (int w = 0; w < 2; w++) {
            float[] alone = new float[m * n];
            MatMul.matmulT(xt, ws[w], Tensor.wrap(alone, Shape.of(m, n)), kernel);
            assertArrayEquals(alone, c[w], what + ": weight " + w + " differs from its product alone");
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double want = 0, scale = 0;
                    for (int p = 0; p < k; p++) {
                        want += (double) x[i * k + p] * wv[w][j * k + p];
                        scale += Math.abs((double) x[i * k + p] * wv[w][j * k + p]);
                    }
                    double bound = (k + 2) * U * scale + Float.MIN_VALUE;
                    double err = Math.abs(c[w][i * n + j] - (float) want);
                    if (!(err <= bound)) {          // also catches NaN (an element left unwritten)
                        fail(what + ": C" + w + "[" + i + ", " + j + "] = " + c[w][i * n + j] + ", oracle " + want
                                + ", bound " + bound);
                    }
                }
            }
        }
    }
}
