package dev.interlayer.bench;

import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.Linear;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The JMH settings of the whole-layer suites (transformer block, MoE layer): milliseconds per call, one state per
 * thread, 2 warm-up and 3 measured iterations of 2 s, one fork with the Vector API module, native access and an
 * 8 GB heap (the expert weights of the F32 cases alone take 1.6 GB). The JMH annotations used here are
 * {@link java.lang.annotation.Inherited}, so a subclass gets them. Also the suites' random layers: weights in a
 * native arena (like a mapped checkpoint) freed after the trial, uniform so that unit-variance inputs give
 * unit-variance outputs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "-Xmx8g"})
public abstract class LayerBenchmark {
    /** For subclasses (JMH instantiates them). */
    protected LayerBenchmark() {
    }

    Arena arena;   // the trial's weights

    // sizes the compute pool and opens the weights' arena; the first call of a subclass's setup
    void open(int threads) {
        ComputePool.setThreads(threads);
        arena = Arena.ofShared();
    }

    /** Frees the trial's weights. */
    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    // w [out, in] in the arena, stored as wt, uniform in ±sqrt(3 / in)
    Linear linear(SplittableRandom rng, DType wt, int out, int in) {
        Tensor w = Tensor.allocate(arena, wt, Shape.of(out, in));
        float scale = (float) Math.sqrt(3.0 / in);
        for (long i = 0, n = w.size(); i < n; i++) {
            w.writeFloat(i, (float) ((rng.nextDouble() * 2 - 1) * scale));
        }
        return new Linear(w);
    }

    // SwiGLU d -> f -> d: gate [f, d], up [f, d], down [d, f], drawn in that order
    GatedMlp swiGlu(SplittableRandom rng, DType wt, int d, int f) {
        return GatedMlp.swiGlu(linear(rng, wt, f, d), linear(rng, wt, f, d), linear(rng, wt, d, f));
    }

    // a heap tensor of dtype and shape dims, uniform with standard deviation scale
    static Tensor random(SplittableRandom rng, DType dtype, float scale, int... dims) {
        Tensor t = Tensor.zeros(dtype, Shape.of(dims));
        for (long i = 0, n = t.size(); i < n; i++) {
            t.writeFloat(i, (float) ((rng.nextDouble() * 2 - 1) * scale * Math.sqrt(3)));
        }
        return t;
    }
}
