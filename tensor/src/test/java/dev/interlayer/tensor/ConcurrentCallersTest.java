package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Models are shared between application threads, each with its own session; sessions with more than one
 * compute thread run their whole forward pass on the pool ({@link ComputePool#run}). Kernels keep
 * per-thread scratch (packing buffers, reordered activations), so a pool worker that helps another
 * caller's work while it waits must not overwrite scratch that its own loop is still reading. This test
 * runs many products from four application threads at once, every one inside {@code ComputePool.run},
 * and compares each result with the same product computed alone. Not bit-for-bit: before C2 compiles the
 * kernels, Vector API reductions add lanes in another order (seen: 2e-6 relative). A caller whose scratch
 * was overwritten by another caller's data gets unrelated numbers (relative error ~1), so 1e-4 relative
 * separates the two cleanly.
 */
class ConcurrentCallersTest {
    private final int savedThreads = ComputePool.threads();

    @AfterEach
    void restore() {
        ComputePool.setThreads(savedThreads);
    }

    @Test
    void concurrentSessionsGetTheSameResultsAsOneAtATime() throws Exception {
        ComputePool.setThreads(2);
        int k = 512, n = 768;
        SplittableRandom rng = new SplittableRandom(0xC0C0L);
        try (Arena arena = Arena.ofShared()) {
            // BF16 weights take the reordered-activation path for small m; F32 weights the packed GEMM for m > 64
            List<Tensor> weights = new ArrayList<>();
            for (DType dt : new DType[] {DType.BF16, DType.F32, DType.F16}) {
                Tensor w = Tensor.allocate(arena, dt, Shape.of(n, k));
                for (int j = 0; j < n; j++) {
                    for (int c = 0; c < k; c++) {
                        w.setFloat((float) rng.nextGaussian(), j, c);
                    }
                }
                weights.add(w);
            }
            int[] ms = {2, 5, 16, 80};
            List<Tensor> inputs = new ArrayList<>();
            List<float[]> expected = new ArrayList<>();
            for (Tensor w : weights) {
                for (int m : ms) {
                    float[] x = new float[m * k];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) rng.nextGaussian();
                    }
                    Tensor xt = Tensor.wrap(x, Shape.of(m, k));
                    Tensor out = Tensor.zeros(m, n);
                    ComputePool.run(() -> Ops.matmulT(xt, w, out));
                    inputs.add(xt);
                    expected.add(out.toFloatArray());
                }
            }
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int caller = 0; caller < 4; caller++) {
                    int first = caller;
                    futures.add(callers.submit((Callable<Void>) () -> {
                        for (int rep = 0; rep < 30; rep++) {
                            int idx = (first + rep * 5) % inputs.size();
                            Tensor w = weights.get(idx / ms.length);
                            Tensor xt = inputs.get(idx);
                            Tensor out = Tensor.zeros(xt.dim(0), n);
                            ComputePool.run(() -> Ops.matmulT(xt, w, out));
                            float[] want = expected.get(idx), got = out.toFloatArray();
                            for (int i = 0; i < want.length; i++) {
                                float tol = 1e-4f * (1f + Math.abs(want[i]));
                                int at = i, r = rep;
                                assertTrue(Math.abs(want[i] - got[i]) <= tol, () -> "caller " + first + " rep " + r
                                        + " case " + idx + " (" + w.dtype() + ", m=" + xt.dim(0) + ") element " + at
                                        + ": expected " + want[at] + " but was " + got[at]);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                callers.shutdownNow();
            }
        }
    }
}
