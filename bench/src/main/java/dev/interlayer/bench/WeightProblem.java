package dev.interlayer.bench;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One trial's off-heap, read-only weight matrix w[rows, cols] with the activations x and output of a subclass's op
 * (mat-vec, quantized matmul); {@link #streamSum} reads the same bytes as a plain stream, the bandwidth ceiling
 * measured next to the op. The suites' {@code bytes} counter counts weight bytes read.
 */
public abstract class WeightProblem {
    Arena arena;
    Tensor w, x, out;
    long weightBytes;

    /** For subclasses (JMH instantiates them). */
    protected WeightProblem() {
    }

    // sizes the compute pool and opens the arena for w; returns {rows, cols} of a "rows x cols" shape
    int[] open(int threads, String shape) {
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
     * Single-thread streaming sum over the weight bytes (reinterpreted as floats); adds them to {@code b}.
     *
     * @return the sum (returned to JMH so that the read is not eliminated)
     */
    public float streamSum(Counters.Bytes b) {
        b.bytes += weightBytes;
        return StreamSum.sum(w.segment());
    }

    /** Frees the off-heap weights. */
    @TearDown(Level.Trial)
    public void close() {
        arena.close();
    }
}
