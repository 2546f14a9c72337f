package dev.interlayer.bench;

import dev.interlayer.bench.Counters.Bytes;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Decode matvec out[rows] = w[rows, cols]·x[cols] (Ops.matvec), weights off-heap and read-only; next to
 * it the streaming read of a buffer of the same bytes, the bandwidth ceiling. The {@code bytes} counter
 * is weight bytes read per second: divide by 1e9 for GB/s.
 */
public class MatVecBench extends WeightBench {
    /** One weight matrix "rows x cols". */
    @Param({"4096x4096", "5632x2048"})
    String shape;
    @Param({"f32", "bf16"})
    String weights;

    @Setup(Level.Trial)
    public void setup() {
        int[] d = open(shape);
        weights(BenchData.weights(arena, BenchData.dtype(weights), 3, d[0], d[1]));
        x = BenchData.activations(4, d[1]);
        out = Tensor.zeros(d[0]);
    }

    @Benchmark
    public Tensor matvec(Bytes b) {
        b.bytes += weightBytes;
        return Ops.matvec(w, x, out);
    }
}
