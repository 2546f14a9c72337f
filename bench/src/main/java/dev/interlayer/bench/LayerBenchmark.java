package dev.interlayer.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The JMH settings of the whole-layer suites (transformer block, MoE layer): milliseconds per call, one state per
 * thread, 2 warm-up and 3 measured iterations of 2 s, one fork with the Vector API module, native access and an
 * 8 GB heap (the expert weights of the F32 cases alone take 1.6 GB). The JMH annotations used here are
 * {@link java.lang.annotation.Inherited}, so a subclass gets them.
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
}
