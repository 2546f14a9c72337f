package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.simd.GemmKernel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The row-exact contract of {@link Ops#matmulT} with F32/F16/BF16 weights ({@link GemmKernel#ROW_EXACT_MAX}):
 * for m = 1..9 rows, odd k (tails below a whole vector), 1 and 2 threads and strided views of x and w, row i
 * of the m-row product is bit-identical to the product of row i alone, and both are bit-identical to a
 * scalar model of the kernel's summation order ({@link #exactOrder}). {@link GemmWidthsTest} repeats the sweep
 * at every forced vector width (4, 8 and 16 lanes, and the scalar kernel).
 *
 * <p>Exact float equality is legitimate here because both sides are the same arithmetic by design, not two
 * approximations of one sum: every output is one FMA chain per vector lane over the k steps, the lanes
 * folded in one fixed order, then the k tail added in sequence, whatever m is, wherever the row sits in the
 * tiles and however the weight rows are split over threads. Closeness to the exact product is
 * {@link MatMulTest}'s job (against {@link GemmReference}, with its error bound).
 */
class RowExactMatMulTest {
    private static final int THREADS = ComputePool.threads();
    /** Lanes per vector of the active kernel ("simd-512" → 16), 0 for the scalar kernel. */
    private static final int VL = MatMul.ACTIVE.name().startsWith("simd-")
            ? Integer.parseInt(MatMul.ACTIVE.name().substring(5)) / 32 : 0;
    private static final int[] KS = {0, 1, 3, 7, 15, 17, 33, 67, 131};
    private static final int[] NS = {1, 2, 5, 9, 17, 38};

    @AfterEach
    void restoreThreads() {
        ComputePool.setThreads(THREADS);
    }

    @ParameterizedTest(name = "{0} weights")
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void eachRowOfABatchEqualsThatRowAloneAndTheOrderModel(DType dtype) {
        sweep(dtype);
    }

    /** The whole sweep for one weight dtype (also run by {@link GemmCheck} at every forced vector width). */
    static void sweep(DType dtype) {
        SplittableRandom rng = new SplittableRandom(0x20E5AL + dtype.ordinal());
        for (int threads : new int[] {1, 2}) {
            ComputePool.setThreads(threads);
            for (int k : KS) {
                for (int n : NS) {
                    for (int m = 1; m <= 9; m++) {
                        check(rng, dtype, m, n, k, threads, false);
                    }
                    check(rng, dtype, 1 + rng.nextInt(9), n, k, threads, true);
                }
            }
            // large enough to split the weight rows over both threads (2·m·n·k above the parallel threshold)
            check(rng, dtype, 4, 301, 515, threads, false);
            check(rng, dtype, 7, 301, 515, threads, true);
        }
    }

    // x [m, k] and w [n, k], plain or as strided views (x: a column window of a wider matrix, so rows are
    // k + 3 apart; w: rows [1, n + 1) and columns [2, k + 2) of a larger one, so offset and row stride change).
    private static void check(SplittableRandom rng, DType dtype, int m, int n, int k, int threads, boolean views) {
        Tensor x = views ? GemmCheck.gaussian(rng, DType.F32, m, k + 3).slice(1, 1, k + 1)
                : GemmCheck.gaussian(rng, DType.F32, m, k);
        Tensor w = views ? GemmCheck.gaussian(rng, dtype, n + 2, k + 4).slice(0, 1, n + 1).slice(1, 2, k + 2)
                : GemmCheck.gaussian(rng, dtype, n, k);
        Tensor all = Tensor.zeros(m, n), one = Tensor.zeros(1, n);
        Ops.matmulT(x, w, all);
        float[] xs = x.toFloatArray(), ws = w.toFloatArray(), got = all.toFloatArray();
        String where = dtype + " m=" + m + " n=" + n + " k=" + k + " threads=" + threads + (views ? " views" : "");
        for (int i = 0; i < m; i++) {
            Ops.matmulT(x.slice(0, i, i + 1), w, one);
            float[] alone = one.toFloatArray();
            for (int j = 0; j < n; j++) {
                float model = exactOrder(xs, i * k, ws, j * k, k);
                assertEquals(Float.floatToRawIntBits(alone[j]), Float.floatToRawIntBits(got[i * n + j]),
                        () -> where + ": batched row differs from the row alone");
                assertEquals(Float.floatToRawIntBits(model), Float.floatToRawIntBits(alone[j]),
                        () -> where + ": kernel differs from the order model");
            }
        }
    }

    /**
     * The oracle: Σ_p x[p]·w[p] in the active kernel's order. Scalar kernel: one float sum in order of p.
     * Vector kernels with VL lanes: lane l accumulates fma(w[p], x[p], acc_l) for p ≡ l (mod VL) below
     * kv = k − k mod VL; the lanes fold pairwise, lane i += lane i + s for s = VL/2 … 1; then x[p]·w[p] for p in
     * [kv, k) is added in order.
     */
    static float exactOrder(float[] x, int xo, float[] w, int wo, int k) {
        if (VL == 0) {
            float acc = 0;
            for (int p = 0; p < k; p++) {
                acc += x[xo + p] * w[wo + p];
            }
            return acc;
        }
        float[] lanes = new float[VL];
        int kv = k - k % VL;
        for (int p = 0; p < kv; p += VL) {
            for (int l = 0; l < VL; l++) {
                lanes[l] = Math.fma(w[wo + p + l], x[xo + p + l], lanes[l]);
            }
        }
        for (int s = VL / 2; s >= 1; s /= 2) {
            for (int i = 0; i < s; i++) {
                lanes[i] += lanes[i + s];
            }
        }
        float r = lanes[0];
        for (int p = kv; p < k; p++) {
            r += w[wo + p] * x[xo + p];
        }
        return r;
    }

    @Test
    void emptyShapesAreNoOpsOrZeros() {
        Tensor out = Tensor.f32(Shape.of(2, 3), 1, 1, 1, 1, 1, 1);
        Ops.matmulT(Tensor.zeros(2, 0), Tensor.zeros(DType.BF16, Shape.of(3, 0)), out);   // k = 0: empty sums
        assertTrue(java.util.Arrays.equals(new float[6], out.toFloatArray()), "k = 0 must give zeros");
        Ops.matmulT(Tensor.zeros(0, 4), Tensor.zeros(3, 4), Tensor.zeros(0, 3));           // m = 0
        Ops.matmulT(Tensor.zeros(2, 4), Tensor.zeros(0, 4), Tensor.zeros(2, 0));           // n = 0
    }
}
