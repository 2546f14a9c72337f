package dev.interlayer.bench;

import dev.interlayer.models.cli.CliCommand;
import dev.interlayer.models.cli.Flags;
import dev.interlayer.models.cli.Progress;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./interlayer bench gemm|matvec|bandwidth}: quick kernel measurements without JMH. Each warms
 * up, then times windows of about half a second and reports the median window; the last line is
 * machine-readable ({@code key=value}). A line before it warns when the windows' rates differ more than 2x
 * (the median of such a run says little: typically the JIT was still compiling after a short --warmup).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Quick kernel benchmarks (JMH suites: bench/jmh.sh, see BENCHMARKS.md).",
        subcommands = {BenchCommand.Gemm.class, BenchCommand.MatVec.class, BenchCommand.Bandwidth.class})
public final class BenchCommand implements CliCommand, Callable<Integer> {

    /** Creates the command; {@link java.util.ServiceLoader} needs this constructor. */
    public BenchCommand() {
    }

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        // the attached command line: it also has the subcommands other modules nest here (generate)
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** Shared timing options. */
    static class Timing {
        /** Printed before the result when one measurement's window rates differ more than {@link #UNSTEADY_RATIO}. */
        static final String UNSTEADY = "unsteady measurement: window rates differ more than 2x; raise --warmup";
        /** Fastest over slowest window rate above which the median is not to be trusted. */
        static final double UNSTEADY_RATIO = 2;

        @Option(names = "--warmup", defaultValue = "2", description = "Warm-up seconds (default ${DEFAULT-VALUE}).")
        double warmup;
        @Option(names = "--seconds", defaultValue = "4", description = "Measured seconds (default ${DEFAULT-VALUE}).")
        double seconds;
        @Mixin
        BenchThreads pool = new BenchThreads();

        /**
         * Median calls per second of {@code op} over windows of about 0.5 s; first prints {@link #UNSTEADY} to stdout
         * when the windows disagree (a warm-up too short for the JIT, or a neighbour taking the cores).
         */
        double callsPerSecond(Runnable op) {
            pool.apply();
            Flags.require(warmup >= 0, "--warmup", ">= 0", warmup);
            Flags.require(seconds > 0, "--seconds", "> 0", seconds);
            long begin = System.nanoTime(), end = begin + (long) (warmup * 1e9);
            int windows = Math.max(1, (int) Math.round(seconds / 0.5));
            double[] rates = new double[windows];
            try (Progress p = Progress.start("benchmark", warmup + windows * 0.5)) {
                do {
                    op.run();
                    p.update((System.nanoTime() - begin) / 1e9);
                } while (System.nanoTime() < end);
                measure(op, rates, p, begin);
            }
            if (unsteady(rates)) {
                System.out.println(UNSTEADY);
            }
            Arrays.sort(rates);
            return rates[windows / 2];
        }

        /** True when the fastest window's rate is more than {@link #UNSTEADY_RATIO} times the slowest's. */
        static boolean unsteady(double[] rates) {
            double min = Double.POSITIVE_INFINITY, max = 0;
            for (double r : rates) {
                min = Math.min(min, r);
                max = Math.max(max, r);
            }
            return max > UNSTEADY_RATIO * min;
        }

        private static void measure(Runnable op, double[] rates, Progress p, long begin) {
            for (int w = 0; w < rates.length; w++) {
                long t0 = System.nanoTime(), stop = t0 + 500_000_000L, t;
                int calls = 0;
                do {
                    op.run();
                    calls++;
                } while ((t = System.nanoTime()) < stop);
                rates[w] = calls / ((t - t0) / 1e9);
                p.update((t - begin) / 1e9);
            }
        }
    }

    /** Timing of an op on a weight matrix of the stored type --weights, allocated off-heap as a mapping would be. */
    abstract static class WeightTiming extends Timing implements Callable<Integer> {
        @Mixin
        Weights weights = new Weights();

        @Override
        public Integer call() {
            DType dt = weights.dtype();
            try (Arena arena = Arena.ofShared()) {
                run(arena, dt);
            }
            return 0;
        }

        /** Allocates the weights of type {@code dt} in {@code arena}, times the op and prints its result line. */
        abstract void run(Arena arena, DType dt);
    }

    /** picocli mixin: --weights of gemm and matvec, the stored type of the weight matrix. */
    static final class Weights {
        @Option(names = "--weights", defaultValue = "f32", description = "f32, bf16 or f16") String weights;

        DType dtype() {
            return BenchData.dtype(weights);
        }

        @Override
        public String toString() {
            return weights.toLowerCase(Locale.ROOT);
        }
    }

    /** GFLOP/s of x[m, k]·w[n, k]ᵀ. */
    @Command(name = "gemm", mixinStandardHelpOptions = true, description = "GFLOP/s of Ops.matmulT (x[m,k]·w[n,k]ᵀ).")
    static final class Gemm extends WeightTiming {
        @Option(names = "--m", defaultValue = "1024") int m;
        @Option(names = "--n", defaultValue = "1024") int n;
        @Option(names = "--k", defaultValue = "1024") int k;

        @Override
        void run(Arena arena, DType dt) {
            Tensor x = BenchData.activations(1, m, k), w = BenchData.weights(arena, dt, 2, n, k);
            Tensor out = Tensor.zeros(m, n);
            double rate = callsPerSecond(() -> Ops.matmulT(x, w, out));
            System.out.printf(Locale.ROOT, "gemm m=%d n=%d k=%d threads=%d weights=%s GFLOP/s=%.1f%n",
                    m, n, k, pool.threads, weights, rate * 2.0 * m * n * k / 1e9);
        }
    }

    /** GB/s of weight bytes streamed by w[rows, cols]·x[cols]. */
    @Command(name = "matvec", mixinStandardHelpOptions = true, description = "Weight GB/s of Ops.matvec (decode).")
    static final class MatVec extends WeightTiming {
        @Option(names = "--rows", defaultValue = "4096") int rows;
        @Option(names = "--cols", defaultValue = "4096") int cols;

        @Override
        void run(Arena arena, DType dt) {
            Tensor w = BenchData.weights(arena, dt, 3, rows, cols), x = BenchData.activations(4, cols);
            Tensor out = Tensor.zeros(rows);
            double rate = callsPerSecond(() -> Ops.matvec(w, x, out));
            System.out.printf(Locale.ROOT, "matvec rows=%d cols=%d threads=%d weights=%s GB/s=%.1f%n",
                    rows, cols, pool.threads, weights, rate * w.segment().byteSize() / 1e9);
        }
    }

    /** Streaming read GB/s over an off-heap buffer. */
    @Command(name = "bandwidth", mixinStandardHelpOptions = true, description = "Streaming read GB/s (Σ over a buffer).")
    static final class Bandwidth extends Timing implements Callable<Integer> {
        @Option(names = "--megabytes", defaultValue = "256") int megabytes;

        @Override
        public Integer call() {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment buf = arena.allocate((long) megabytes << 20, 64);
                buf.fill((byte) 1);
                double rate = callsPerSecond(() -> StreamSum.sum(buf, pool.threads));
                System.out.printf(Locale.ROOT, "bandwidth megabytes=%d threads=%d GB/s=%.1f%n",
                        megabytes, pool.threads, rate * buf.byteSize() / 1e9);
            }
            return 0;
        }
    }
}
