package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A by-hand A/B probe of quantized matrix products (not a test): for each format and weight shape
 * n×k (2048×8192 and 8192×2048, the 1B model's down and gate/up projections), the kernels named on the
 * command line run {@code QuantMatMul.matmulT} on m activation rows, interleaved round by round so that
 * they share the machine's conditions, and the best round is printed as GB/s of weight bytes and
 * GFLOP/s ({@code 2·m·n·k}). Weights are random codes with sane scales, off-heap (as a mapped file is),
 * in enough copies to exceed the last-level cache ({@code -Dprobe.mb}, default 96; 0 = one copy).
 *
 * <pre>
 * mvn -q -B -o test-compile -pl tensor -am
 * java --add-modules jdk.incubator.vector -cp tensor/target/classes:tensor/target/test-classes \
 *   [-Dprobe.m=1] [-Dprobe.threads=1] [-Dprobe.rounds=5] \
 *   dev.interlayer.tensor.quant.QuantKernelProbe Q8_0,Q4_0,Q4_K,Q6_K [active] [scalar] [CLASS ...]
 * </pre>
 * CLASS is a {@link QuantRows} implementation with a public no-argument constructor (an old copy of the
 * kernels on the class path, say), {@code active} is {@link QuantMatMul#ACTIVE}, {@code bf16} the BF16
 * product of the same shape through {@code Ops.matmulT} (the streaming reference). On one thread the time
 * is the thread's CPU time (the machine is shared); the B/call column is what one product allocated
 * (non-zero: vectors boxed, a kernel C2 did not compile whole).
 */
public final class QuantKernelProbe {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    private QuantKernelProbe() {
    }

    public static void main(String[] args) throws ReflectiveOperationException {
        int m = Integer.getInteger("probe.m", 1), rounds = Integer.getInteger("probe.rounds", 5);
        long cacheBytes = Long.getLong("probe.mb", 96) << 20;
        ComputePool.setThreads(Integer.getInteger("probe.threads", 1));
        List<QuantRows> kernels = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            kernels.add(switch (args[i]) {
                case "active" -> QuantMatMul.ACTIVE;
                case "scalar" -> QuantRows.SCALAR;
                case "bf16" -> null;
                default -> (QuantRows) Class.forName(args[i]).getConstructor().newInstance();
            });
            names.add(args[i].substring(args[i].lastIndexOf('.') + 1));
        }
        if (kernels.isEmpty()) {
            kernels.add(QuantMatMul.ACTIVE);
            names.add("active");
        }
        int[][] shapes = {{2048, 8192}, {8192, 2048}};
        Random r = new Random(1);
        try (Arena arena = Arena.ofShared()) {
            for (String fmt : args[0].split(",")) {
                DType t = DType.valueOf(fmt);
                BlockFormat f = BlockFormats.of(t);
                for (int[] s : shapes) {
                    int n = s[0], k = s[1];
                    long bytes = f.rowBytes(k) * n;
                    int copies = (int) Math.max(1, (cacheBytes + bytes - 1) / bytes);
                    MemorySegment one = QuantTestData.randomRows(t, n, k, r);
                    MemorySegment[] ws = new MemorySegment[copies];
                    for (int c = 0; c < copies; c++) {
                        ws[c] = arena.allocate(bytes, 64).copyFrom(one);
                    }
                    float[] a = QuantTestData.gaussian(m * k, r), out = new float[m * n];
                    MemorySegment[] bf = names.contains("bf16") ? bf16Copies(arena, n, k, cacheBytes, r) : null;
                    double[] best = new double[kernels.size()];
                    java.util.Arrays.fill(best, Double.MAX_VALUE);
                    for (int round = 0; round < rounds; round++) {
                        for (int q = 0; q < kernels.size(); q++) {
                            best[q] = Math.min(best[q], kernels.get(q) == null ? timeBf16(m, n, k, a, bf, out)
                                    : timePerCall(kernels.get(q), f, m, n, k, a, ws, out));
                        }
                    }
                    for (int q = 0; q < kernels.size(); q++) {
                        if (kernels.get(q) == null) {
                            long bb = 2L * n * k;
                            System.out.printf(Locale.ROOT, "BF16  %5dx%-5d m=%d threads=%d copies=%2d %-22s %6.1f GB/s %6.1f GFLOP/s%n",
                                    n, k, m, ComputePool.threads(), bf.length, "Ops.matmulT", bb / best[q] / 1e9,
                                    2.0 * m * n * k / best[q] / 1e9);
                            continue;
                        }
                        long a0 = MX.getCurrentThreadAllocatedBytes();
                        QuantMatMul.matmulT(kernels.get(q), f, m, n, k, a, 0, k, ws[0], 0, out, 0, n);
                        long alloc = MX.getCurrentThreadAllocatedBytes() - a0;
                        System.out.printf(Locale.ROOT,
                                "%-5s %5dx%-5d m=%d threads=%d copies=%2d %-22s %6.1f GB/s %6.1f GFLOP/s %8d B/call%n",
                                fmt, n, k, m, ComputePool.threads(), copies, names.get(q), bytes / best[q] / 1e9,
                                2.0 * m * n * k / best[q] / 1e9, alloc);
                    }
                }
            }
        }
    }

    /** BF16 weights [n, k] (small Gaussian values) in enough copies to exceed {@code cacheBytes}. */
    private static MemorySegment[] bf16Copies(Arena arena, int n, int k, long cacheBytes, Random r) {
        long bytes = 2L * n * k;
        MemorySegment one = arena.allocate(bytes, 64);
        for (long i = 0; i < (long) n * k; i++) {
            one.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, i,
                    (short) (Float.floatToRawIntBits((float) (r.nextGaussian() * 0.02)) >>> 16));
        }
        MemorySegment[] ws = new MemorySegment[(int) Math.max(1, (cacheBytes + bytes - 1) / bytes)];
        ws[0] = one;
        for (int c = 1; c < ws.length; c++) {
            ws[c] = arena.allocate(bytes, 64).copyFrom(one);
        }
        return ws;
    }

    /** As {@link #timePerCall} for the BF16 product through {@code Ops.matmulT} (the streaming reference). */
    private static double timeBf16(int m, int n, int k, float[] a, MemorySegment[] ws, float[] out) {
        dev.interlayer.tensor.Tensor x = dev.interlayer.tensor.Tensor.wrap(a, dev.interlayer.tensor.Shape.of(m, k));
        dev.interlayer.tensor.Tensor y = dev.interlayer.tensor.Tensor.wrap(out, dev.interlayer.tensor.Shape.of(m, n));
        dev.interlayer.tensor.Tensor[] w = new dev.interlayer.tensor.Tensor[ws.length];
        for (int c = 0; c < ws.length; c++) {
            w[c] = dev.interlayer.tensor.Tensor.of(DType.BF16, dev.interlayer.tensor.Shape.of(n, k), ws[c]);
        }
        long start = System.nanoTime(), cpu = MX.getCurrentThreadCpuTime(), calls = 0;
        while (System.nanoTime() - start < 250_000_000L) {
            for (dev.interlayer.tensor.Tensor wc : w) {
                dev.interlayer.tensor.Ops.matmulT(x, wc, y);
            }
            calls += ws.length;
        }
        long spent = ComputePool.threads() == 1 ? MX.getCurrentThreadCpuTime() - cpu : System.nanoTime() - start;
        return spent / 1e9 / calls;
    }

    /**
     * Seconds per product, averaged over about 0.25 s of calls cycling through the weight copies: the calling
     * thread's CPU time on one thread (the machine is shared: time spent descheduled is not the kernel's),
     * wall time on more.
     */
    private static double timePerCall(QuantRows kernel, BlockFormat f, int m, int n, int k, float[] a,
                                      MemorySegment[] ws, float[] out) {
        long start = System.nanoTime(), cpu = MX.getCurrentThreadCpuTime(), calls = 0;
        while (System.nanoTime() - start < 250_000_000L) {
            for (MemorySegment w : ws) {
                QuantMatMul.matmulT(kernel, f, m, n, k, a, 0, k, w, 0, out, 0, n);
            }
            calls += ws.length;
        }
        long spent = ComputePool.threads() == 1 ? MX.getCurrentThreadCpuTime() - cpu : System.nanoTime() - start;
        return spent / 1e9 / calls;
    }
}
