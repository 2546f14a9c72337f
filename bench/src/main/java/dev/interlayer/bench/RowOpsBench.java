package dev.interlayer.bench;

import dev.interlayer.bench.Counters.Bytes;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Row ops over x [rows, dim] F32: softmax and RMSNorm (the active kernels, SIMD or scalar). The
 * {@code bytes} counter is bytes read + written per second (2·rows·dim·4 per call; GB/s after / 1e9).
 */
@State(Scope.Benchmark)
public class RowOpsBench extends ThroughputBenchmark {
    @Param({"32"})
    int rows;
    @Param({"4096", "32000"})
    int dim;
    Tensor x, weight, out;

    @Setup(Level.Trial)
    public void setup() {
        x = BenchData.activations(5, rows, dim);
        weight = BenchData.activations(6, dim);
        out = Tensor.zeros(rows, dim);
    }

    @Benchmark
    public Tensor softmax(Bytes b) {
        b.bytes += 8L * rows * dim;
        return Ops.softmax(x, out);
    }

    @Benchmark
    public Tensor rmsNorm(Bytes b) {
        b.bytes += 8L * rows * dim;
        return Ops.rmsNorm(x, weight, 1e-5f, false, out);
    }
}
