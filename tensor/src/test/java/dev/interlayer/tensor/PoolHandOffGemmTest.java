package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The weight-stream GEMM called with 2 threads from a thread outside the compute pool (it then runs the whole call
 * on a pool thread), from inside {@link ComputePool#run} (a forward pass) and from inside a
 * {@link ComputePool#parallelTasks} task (1 thread there): each against the double oracle ({@link GemmCheck#compare},
 * tolerance (k + 2)·u·Σ|x||w| as in {@code SharedInputGemmsTest}), and the three bit for bit equal, since every output
 * element is the same kernel's sum over k in the same order whichever thread computes it. Shapes take both ways of
 * splitting: weight rows per activation block (m ≤ 3 blocks of 128 at 2 threads) and whole activation blocks per
 * thread (m = 520), with two k blocks (k = 2100, C accumulated); gate and up through one call as well.
 */
class PoolHandOffGemmTest {
    private final int threads = ComputePool.threads();

    @AfterEach
    void restoreThreads() {
        ComputePool.setThreads(threads);
    }

    @Test
    void outsideInsideAndInATaskAgree() {
        ComputePool.setThreads(2);
        int[][] shapes = {{45, 25, 2100}, {129, 37, 300}, {257, 13, 2100}, {520, 25, 301}, {33, 1, 17}};
        SplittableRandom pick = new SplittableRandom(0x9A11);
        int cases = 0;
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            for (int[] s : shapes) {
                check(dt, s[0], s[1], s[2], pick.nextLong());
                cases++;
            }
        }
        assertTrue(cases > 0);
    }

    private static void check(DType dt, int m, int n, int k, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = GemmCheck.gaussian(rng, DType.F32, m, k);
        Tensor[] ws = new Tensor[2];
        for (int i = 0; i < 2; i++) {
            ws[i] = Tensor.allocate(Arena.ofAuto(), dt, Shape.of(n, k));     // native, as a loaded model's
            ws[i].copyFrom(GemmCheck.gaussian(rng, dt, n, k));
        }
        String what = dt + " m=" + m + " n=" + n + " k=" + k;
        // stale values in every output: each call must overwrite all of them
        Tensor outside = GemmCheck.gaussian(rng, DType.F32, m, n), inside = GemmCheck.gaussian(rng, DType.F32, m, n);
        Tensor inTask = GemmCheck.gaussian(rng, DType.F32, m, n);
        Ops.matmulT(x, ws[0], outside);
        ComputePool.run(() -> Ops.matmulT(x, ws[0], inside));
        ComputePool.parallelTasks(1, 2, (task, slot) -> Ops.matmulT(x, ws[0], inTask));
        expectOracle(x, ws[0], outside, what + " outside the pool");
        assertArrayEquals(outside.heapFloats(), inside.heapFloats(), what + ": inside ComputePool.run differs");
        assertArrayEquals(outside.heapFloats(), inTask.heapFloats(), what + ": inside a task differs");

        Tensor[] pair = {GemmCheck.gaussian(rng, DType.F32, m, n), GemmCheck.gaussian(rng, DType.F32, m, n)};
        Ops.matmulT(x, ws, pair);                                           // gate and up, outside the pool
        assertArrayEquals(outside.heapFloats(), pair[0].heapFloats(), what + ": first of two products differs");
        expectOracle(x, ws[1], pair[1], what + " second of two products");
    }

    private static void expectOracle(Tensor x, Tensor w, Tensor got, String what) {
        String err = GemmCheck.compare(x, w.transpose(0, 1), got, new double[1]);
        if (err != null) {
            fail(what + ": " + err);
        }
    }
}
