package dev.interlayer.bench;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@code bench gemm}'s product x[m, k]·w[n, k]ᵀ at one thread, timed by the computing thread's CPU time instead of
 * the wall clock, for a shared, loaded machine (the CPU time excludes what the scheduler gave to other processes):
 * 3 s of warm-up, then windows of 0.5 s CPU time; prints the median and best GFLOP/s and every window's.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp
 * bench/target/interlayer.jar dev.interlayer.bench.GemmCpuTiming M N K WINDOWS [f32|bf16|f16]}
 */
public final class GemmCpuTiming {
    private GemmCpuTiming() {
    }

    /** Runs the timing: args m, n, k, windows (at least 1), optionally the weight type (default f32). */
    public static void main(String[] a) {
        int m = Integer.parseInt(a[0]), n = Integer.parseInt(a[1]), k = Integer.parseInt(a[2]);
        int windows = Integer.parseInt(a[3]);
        if (windows < 1) {
            throw new IllegalArgumentException("windows must be >= 1, got " + windows);
        }
        DType dt = BenchData.dtype(a.length > 4 ? a[4] : "f32");
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        ComputePool.setThreads(1);
        try (Arena arena = Arena.ofShared()) {
            Tensor x = BenchData.activations(1, m, k), w = BenchData.weights(arena, dt, 2, n, k);
            Tensor out = Tensor.zeros(m, n);
            long warmEnd = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < warmEnd) {
                ComputePool.run(() -> Ops.matmulT(x, w, out));
            }
            double[] gf = new double[windows];
            long[] res = new long[2]; // CPU ns, calls
            for (int i = 0; i < windows; i++) {
                ComputePool.run(() -> {
                    long c0 = mx.getCurrentThreadCpuTime(), calls = 0;
                    do {
                        Ops.matmulT(x, w, out);
                        calls++;
                    } while (mx.getCurrentThreadCpuTime() - c0 < 500_000_000L);
                    res[0] = mx.getCurrentThreadCpuTime() - c0;
                    res[1] = calls;
                });
                gf[i] = 2.0 * m * n * k * res[1] / res[0];
            }
            double[] s = gf.clone();
            Arrays.sort(s);
            System.out.printf(Locale.ROOT, "gemm-cpu m=%d n=%d k=%d weights=%s median GFLOP/s=%.1f best=%.1f"
                    + " windows=%s%n", m, n, k, dt, s[windows / 2], s[windows - 1],
                    Arrays.toString(Arrays.stream(gf).map(v -> Math.round(v * 10) / 10.0).toArray()));
        }
    }
}
