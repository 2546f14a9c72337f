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

    /** One trial's x[m, k] (heap), w[n, k] (off-heap, read-only) and out[m, n]; subclasses choose m, n, k. */
    public abstract static class Problem {
        Arena arena;
        Tensor x, w, out;
        long flopsPerCall;

        void open(int threads, String weights, int m, int n, int k) {
            open(threads, weights, "out-in", m, n, k);
        }

        /** layout "out-in": w stored [n, k] (safetensors, GGUF); "in-out": stored [k, n] (ONNX), used transposed. */
        void open(int threads, String weights, String layout, int m, int n, int k) {
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
    }

    /** Square problems. */
    @State(Scope.Benchmark)
    public static class Square extends Problem {
        @Param({"256", "512", "1024", "2048"})
        int size;
        @Param({"f32", "bf16"})
        String weights;
        @Param({"1", "2"})
        int threads;

        @Setup(Level.Trial)
        public void setup() {
            open(threads, weights, size, size, size);
        }
    }

    /** m tokens against layer shapes "n x k" (out x in). */
    @State(Scope.Benchmark)
    public static class Tokens extends Problem {
        @Param({"16", "128", "512"})
        int m;
        @Param({"768x768", "3072x768", "768x3072", "4096x4096"})
        String layer;
        @Param({"f32", "bf16"})
        String weights;
        @Param({"1", "2"})
        int threads;
        /** How the weights are stored: "out-in" [n, k] rows, or "in-out" [k, n] as ONNX exports them. */
        @Param({"out-in"})
        String layout;

        @Setup(Level.Trial)
        public void setup() {
            String[] d = layer.split("x");
            open(threads, weights, layout, m, Integer.parseInt(d[0]), Integer.parseInt(d[1]));
        }
    }

    @Benchmark
    public Tensor square(Square s, Flops f) {
        f.flop += s.flopsPerCall;
        return Ops.matmulT(s.x, s.w, s.out);
    }

    @Benchmark
    public Tensor tokens(Tokens s, Flops f) {
        f.flop += s.flopsPerCall;
        return Ops.matmulT(s.x, s.w, s.out);
    }
}
