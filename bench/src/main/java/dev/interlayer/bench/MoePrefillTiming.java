package dev.interlayer.bench;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.moe.RoutedMoe;
import dev.interlayer.nn.moe.TopKRouter;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@link MoeBench}'s prefill pair (256 tokens; 64 experts of width 1024, top-8, against a dense SwiGLU of width
 * 8192, d = 2048) for a shared, loaded machine: the two run alternately, one call each per repetition, and every
 * repetition prints the wall-time ratio and, at one thread, the ratio of the calling thread's CPU time (which
 * excludes the time the scheduler gave to other processes). Same FLOPs, so a time ratio dense/MoE is the MoE's
 * GFLOP/s as a fraction of the dense GEMM's. The first three repetitions are JIT warm-up and not summarized.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp
 * bench/target/interlayer.jar dev.interlayer.bench.MoePrefillTiming THREADS F32|BF16 REPS [breakdown]}
 *
 * <p>With {@code breakdown} (meaningful at 1 thread: CPU time of the calling thread) each repetition also times the
 * GEMMs alone: every expert's gate + up and down products on as many rows as the router gave it, against the dense
 * layer's, so that the layer's gap splits into GEMM shapes and the rest (router, gather, SiLU, weighted sum); the
 * routed rows per expert are printed once.
 */
public final class MoePrefillTiming {
    private MoePrefillTiming() {
    }

    private static final java.lang.management.ThreadMXBean MX =
            java.lang.management.ManagementFactory.getThreadMXBean();
    private static long cpu; // CPU time of the last timed body, on the thread that ran it

    /** Runs the comparison: args threads, weight dtype, repetitions (at least 4). */
    public static void main(String[] a) {
        int threads = Integer.parseInt(a[0]);
        DType wt = DType.valueOf(a[1]);
        int reps = Integer.parseInt(a[2]);
        if (reps < 4) {
            throw new IllegalArgumentException("repetitions must be >= 4 (the first 3 are warm-up), got " + reps);
        }
        ComputePool.setThreads(threads);
        Arena arena = Arena.ofShared();
        SplittableRandom rng = new SplittableRandom(7);
        int d = 2048, e = 64, k = 8, f = 1024, t = 256;
        List<FeedForward> ex = new ArrayList<>();
        for (int j = 0; j < e; j++) {
            ex.add(swiGlu(arena, rng, wt, f, d));
        }
        RoutedMoe moe = new RoutedMoe(TopKRouter.softmax(lin(arena, rng, DType.F32, e, d), k, true), ex,
                RoutedMoe.Combine.WEIGHTED_SUM);
        GatedMlp dense = swiGlu(arena, rng, wt, k * f, d);
        Tensor x = Tensor.zeros(t, d), y = Tensor.zeros(t, d);
        for (long i = 0; i < x.size(); i++) {
            x.writeFloat(i, (float) ((rng.nextDouble() * 2 - 1) * Math.sqrt(3)));
        }
        RoutedMoe.State ms = moe.newScratch(t);
        FeedForward.Scratch ds = dense.newScratch(t);
        boolean breakdown = a.length > 3 && a[3].equals("breakdown");
        double flops = 2.0 * 3 * d * k * f * t;
        double[] rd = new double[reps], rm = new double[reps], cd = new double[reps], cm = new double[reps];
        for (int r = 0; r < reps; r++) {
            rd[r] = timed(() -> dense.forward(x, y, ds));
            cd[r] = cpu;
            rm[r] = timed(() -> moe.forward(x, y, ms));
            cm[r] = cpu;
            System.out.printf("rep %d wall dense %.0f ms moe %.0f ms ratio %.2f | cpu(1T) dense %.0f moe %.0f "
                    + "ratio %.2f%n",
                    r, rd[r] / 1e6, rm[r] / 1e6, rd[r] / rm[r], cd[r] / 1e6, cm[r] / 1e6, cd[r] / cm[r]);
            if (breakdown) {
                gemmBreakdown(r == 0, ms.stats().tokensPerExpert(), ex, dense, x, cm[r], cd[r]);
            }
        }
        double[] w = new double[reps - 3], c = new double[reps - 3];
        for (int r = 3; r < reps; r++) {
            w[r - 3] = rd[r] / rm[r];
            c[r - 3] = cd[r] / cm[r];
        }
        Arrays.sort(w);
        Arrays.sort(c);
        // At 2+ threads the CPU time is the calling thread's alone: it excludes the other threads' share and the
        // time this one waits for them, so its ratio is no throughput figure (only wall times are).
        System.out.printf("%s %dT: median wall ratio %.2f (min %.2f max %.2f); best dense %.0f ms (%.0f GF/s), "
                        + "best moe %.0f ms (%.0f GF/s); median cpu ratio %.2f%s%n", wt, threads, w[w.length / 2], w[0],
                w[w.length - 1], min(rd) / 1e6, flops / min(rd), min(rm) / 1e6, flops / min(rm), c[c.length / 2],
                threads > 1 ? " (calling thread only: not a " + threads + "-thread figure)" : "");
    }

    /**
     * Thread CPU time of the GEMMs alone: each expert's gate + up (one shared-input call, as GatedMlp makes it) and
     * down on rows[e] rows, summed, against the dense layer's on all rows; "rest" = layer time minus its GEMMs. A
     * second line splits the experts' GEMM time by routed rows into the forms the F32 weight-stream GEMM gives them
     * (one 32-token panel, padded below 32 rows; a panel and the dot-product tail; a panel and the k-pair tail; one
     * 3-vector panel; more), each with its GF/s over the rows it was given: which form loses how much against dense.
     */
    private static void gemmBreakdown(boolean first, int[] rows, List<FeedForward> ex, GatedMlp dense, Tensor x,
                                      double moeCpu, double denseCpu) {
        if (first) {
            int[] sorted = rows.clone();
            Arrays.sort(sorted);
            System.out.println("routed rows per expert, sorted: " + Arrays.toString(sorted));
        }
        int d = x.dim(1);
        long[] ns = new long[4]; // expert gate+up, expert down, dense gate+up, dense down
        long[] byClass = new long[CLASS_MAX.length], rowsByClass = new long[CLASS_MAX.length];
        int[] count = new int[CLASS_MAX.length];
        ComputePool.run(() -> {
            for (int e = 0; e < rows.length; e++) {
                if (rows[e] > 0) {
                    long before = ns[0] + ns[1];
                    gemms((GatedMlp) ex.get(e), x.slice(0, 0, rows[e]), ns, 0);
                    int c = rowClass(rows[e]);
                    byClass[c] += ns[0] + ns[1] - before;
                    rowsByClass[c] += rows[e];
                    count[c]++;
                }
            }
            gemms(dense, x, ns, 2);
        });
        int f = ((GatedMlp) ex.get(0)).intermediate(), fd = dense.intermediate(), t = x.dim(0);
        double eg = 4.0 * d * f * Arrays.stream(rows).sum(), ed = eg / 2, dg = 4.0 * d * fd * t, dd = dg / 2;
        System.out.printf("  GEMMs alone (CPU ms, GF/s): experts gate+up %.0f (%.0f) down %.0f (%.0f) rest of layer %.0f"
                        + " | dense gate+up %.0f (%.0f) down %.0f (%.0f) rest %.0f%n", ns[0] / 1e6, eg / ns[0],
                ns[1] / 1e6, ed / ns[1], (moeCpu - ns[0] - ns[1]) / 1e6, ns[2] / 1e6, dg / ns[2], ns[3] / 1e6,
                dd / ns[3], (denseCpu - ns[2] - ns[3]) / 1e6);
        StringBuilder line = new StringBuilder("  experts by rows (count, CPU ms, GF/s):");
        for (int c = 0; c < CLASS_MAX.length; c++) {
            if (count[c] > 0) {
                line.append(String.format(" %s %d, %.0f, %.0f;", CLASS_NAME[c], count[c], byClass[c] / 1e6,
                        6.0 * d * f * rowsByClass[c] / byClass[c]));
            }
        }
        System.out.println(line);
    }

    // Row classes of the breakdown: most rows of each, and names (NR = 32 tokens per panel on 512-bit vectors).
    private static final int[] CLASS_MAX = {32, 36, 40, 48, Integer.MAX_VALUE};
    private static final String[] CLASS_NAME = {"<=32 panel", "33-36 +dot tail", "37-40 +k-pair tail",
        "41-48 3-vector panel", ">48"};

    private static int rowClass(int rows) {
        int c = 0;
        while (rows > CLASS_MAX[c]) {
            c++;
        }
        return c;
    }

    // ns[at] += CPU time of gate + up on x, ns[at + 1] += CPU time of down on the gate output.
    private static void gemms(GatedMlp m, Tensor x, long[] ns, int at) {
        int rows = x.dim(0), f = m.intermediate();
        Tensor g = Tensor.zeros(rows, f), u = Tensor.zeros(rows, f), o = Tensor.zeros(rows, x.dim(1));
        long c0 = MX.getCurrentThreadCpuTime();
        Ops.matmulT(x, new Tensor[] {m.gate().weight(), m.up().weight()}, new Tensor[] {g, u});
        long c1 = MX.getCurrentThreadCpuTime();
        Ops.matmulT(g, m.down().weight(), o);
        ns[at] += c1 - c0;
        ns[at + 1] += MX.getCurrentThreadCpuTime() - c1;
    }

    // Wall nanoseconds of body on the compute pool; its thread's CPU nanoseconds in cpu.
    private static double timed(Runnable body) {
        long t0 = System.nanoTime();
        ComputePool.run(() -> {
            long c = MX.getCurrentThreadCpuTime();
            body.run();
            cpu = MX.getCurrentThreadCpuTime() - c;
        });
        return System.nanoTime() - t0;
    }

    private static double min(double[] v) {
        double m = Double.MAX_VALUE;
        for (int i = 3; i < v.length; i++) {
            m = Math.min(m, v[i]);
        }
        return m;
    }

    private static GatedMlp swiGlu(Arena ar, SplittableRandom rng, DType wt, int f, int d) {
        return GatedMlp.swiGlu(lin(ar, rng, wt, f, d), lin(ar, rng, wt, f, d), lin(ar, rng, wt, d, f));
    }

    private static Linear lin(Arena ar, SplittableRandom rng, DType wt, int out, int in) {
        Tensor w = Tensor.allocate(ar, wt, Shape.of(out, in));
        float s = (float) Math.sqrt(3.0 / in);
        for (long i = 0, n = w.size(); i < n; i++) {
            w.writeFloat(i, (float) ((rng.nextDouble() * 2 - 1) * s));
        }
        return new Linear(w);
    }
}
