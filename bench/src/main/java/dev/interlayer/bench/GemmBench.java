package dev.interlayer.bench;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Ops.matmulT throughput: out[m, n] = x[m, k]·w[n, k]ᵀ with weights off-heap (read-only, like a
 * mapping). The {@code flop} counter is FLOP per second (2·m·n·k per call): divide by 1e9 for GFLOP/s.
 * {@code square}: m = n = k = size. {@code tokens}: m tokens against a real layer shape n x k.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBench {

    /** Counts FLOPs; JMH reports it per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public long flop;
    }

    /** Square problems. */
    @State(Scope.Benchmark)
    public static class Square {
        @Param({"256", "512", "1024", "2048"})
        int size;
        @Param({"f32", "bf16"})
        String weights;
        @Param({"1", "2"})
        int threads;
        Arena arena;
        Tensor x, w, out;

        @Setup(Level.Trial)
        public void setup() {
            ComputePool.setThreads(threads);
            arena = Arena.ofShared();
            x = BenchData.activations(1, size, size);
            w = BenchData.weights(arena, BenchData.dtype(weights), 2, size, size);
            out = Tensor.zeros(size, size);
        }

        @TearDown(Level.Trial)
        public void close() {
            arena.close();
        }
    }

    /** m tokens against layer shapes "n x k" (out x in). */
    @State(Scope.Benchmark)
    public static class Tokens {
        @Param({"16", "128", "512"})
        int m;
        @Param({"768x768", "3072x768", "768x3072", "4096x4096"})
        String layer;
        @Param({"f32", "bf16"})
        String weights;
        @Param({"1", "2"})
        int threads;
        Arena arena;
        Tensor x, w, out;
        long flopsPerCall;

        @Setup(Level.Trial)
        public void setup() {
            ComputePool.setThreads(threads);
            String[] d = layer.split("x");
            int n = Integer.parseInt(d[0]), k = Integer.parseInt(d[1]);
            arena = Arena.ofShared();
            x = BenchData.activations(1, m, k);
            w = BenchData.weights(arena, BenchData.dtype(weights), 2, n, k);
            out = Tensor.zeros(m, n);
            flopsPerCall = 2L * m * n * k;
        }

        @TearDown(Level.Trial)
        public void close() {
            arena.close();
        }
    }

    @Benchmark
    public Tensor square(Square s, Flops f) {
        f.flop += 2L * s.size * s.size * s.size;
        return Ops.matmulT(s.x, s.w, s.out);
    }

    @Benchmark
    public Tensor tokens(Tokens s, Flops f) {
        f.flop += s.flopsPerCall;
        return Ops.matmulT(s.x, s.w, s.out);
    }
}
