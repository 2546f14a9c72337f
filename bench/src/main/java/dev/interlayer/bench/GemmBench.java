package dev.interlayer.bench;

import dev.interlayer.bench.Counters.Flops;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Ops.matmulT throughput: out[m, n] = x[m, k]·w[n, k]ᵀ with weights off-heap (read-only, like a
 * mapping). The {@code flop} counter is FLOP per second (2·m·n·k per call): divide by 1e9 for GFLOP/s.
 * {@code square}: m = n = k = size. {@code tokens}: m tokens against a real layer shape n x k, stored
 * [n, k] or (layout in-out) [k, n] as ONNX exports store it.
 */
public class GemmBench extends ThroughputBenchmark {

    /**
     * One trial's x[m, k] (heap), w[n, k] (off-heap, read-only) and out[m, n] at the weight types and thread counts
     * both suites sweep (JMH injects parameters a {@code @State} superclass declares); subclasses choose m, n, k.
     */
    @State(Scope.Benchmark)
    public abstract static class Problem {
        @Param({"f32", "bf16"})
        String weights;
        @Param({"1", "2"})
        int threads;
        Arena arena;
        Tensor x, w, out;
        long flopsPerCall;

        /** layout "out-in": w stored [n, k] (safetensors, GGUF); "in-out": stored [k, n] (ONNX), used transposed. */
        void open(String layout, int m, int n, int k) {
            ComputePool.setThreads(threads);
            arena = Arena.ofShared();
            x = BenchData.activations(1, m, k);
            w = switch (layout) {
                case "out-in" -> BenchData.weights(arena, BenchData.dtype(weights), 2, n, k);
                case "in-out" -> BenchData.weights(arena, BenchData.dtype(weights), 2, k, n).transpose(0, 1);
                default -> throw new IllegalArgumentException("layout " + layout + ": expected out-in or in-out");
            };
            out = Tensor.zeros(m, n);
            flopsPerCall = 2L * m * n * k;
        }

        /** Frees the off-heap weights. */
        @TearDown(Level.Trial)
        public void close() {
            arena.close();
        }

        // the benchmarked call, counted in f
        Tensor matmulT(Flops f) {
            f.flop += flopsPerCall;
            return Ops.matmulT(x, w, out);
        }
    }

    /** Square problems. */
    @State(Scope.Benchmark)
    public static class Square extends Problem {
        @Param({"256", "512", "1024", "2048"})
        int size;

        @Setup(Level.Trial)
        public void setup() {
            open("out-in", size, size, size);
        }
    }

    /** m tokens against layer shapes "n x k" (out x in). */
    @State(Scope.Benchmark)
    public static class Tokens extends Problem {
        @Param({"16", "128", "512"})
        int m;
        @Param({"768x768", "3072x768", "768x3072", "4096x4096"})
        String layer;
        /** How the weights are stored: "out-in" [n, k] rows, or "in-out" [k, n] as ONNX exports them. */
        @Param({"out-in"})
        String layout;

        @Setup(Level.Trial)
        public void setup() {
            String[] d = layer.split("x");
            open(layout, m, Integer.parseInt(d[0]), Integer.parseInt(d[1]));
        }
    }

    @Benchmark
    public Tensor square(Square s, Flops f) {
        return s.matmulT(f);
    }

    @Benchmark
    public Tensor tokens(Tokens s, Flops f) {
        return s.matmulT(f);
    }
}
