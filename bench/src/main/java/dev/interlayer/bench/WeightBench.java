package dev.interlayer.bench;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A suite over one trial's off-heap, read-only weight matrix w[rows, cols] with the activations x and output of the
 * subclass's op (mat-vec, quantized matmul); {@link #streamSameBytes} reads the same bytes as a plain stream, the
 * bandwidth ceiling measured next to the op (JMH runs an inherited benchmark method under each subclass's name). The
 * suites' {@code bytes} counter counts weight bytes read.
 */
@State(Scope.Benchmark)
public abstract class WeightBench extends ThroughputBenchmark {
    @Param({"1", "2"})
    int threads;
    Arena arena;
    Tensor w, x, out;
    long weightBytes;

    /** For subclasses (JMH instantiates them). */
    protected WeightBench() {
    }

    // sizes the compute pool to the threads parameter and opens the arena for w; returns {rows, cols} of a
    // "rows x cols" shape
    int[] open(String shape) {
        ComputePool.setThreads(threads);
        arena = Arena.ofShared();
        String[] d = shape.split("x");
        return new int[] {Integer.parseInt(d[0]), Integer.parseInt(d[1])};
    }

    // the weights, allocated in arena; their bytes are what the counter counts per call
    void weights(Tensor weights) {
        w = weights;
        weightBytes = weights.segment().byteSize();
    }

    /**
     * Single-thread streaming sum over the same weight bytes (reinterpreted as floats).
     *
     * @return the sum (returned to JMH so that the read is not eliminated)
     */
    @Benchmark
    public float streamSameBytes(Counters.Bytes b) {
        b.bytes += weightBytes;
        return StreamSum.sum(w.segment());
    }

    /** Frees the off-heap weights. */
    @TearDown(Level.Trial)
    public void close() {
        arena.close();
    }
}
