package dev.interlayer.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The JMH settings of the throughput suites (GEMM, mat-vec, row ops, bandwidth, sentence embedding): operations per second, 2 warm-up and
 * 3 measured iterations of 1 s, one fork with the Vector API module and native access. The JMH annotations used
 * here are {@link java.lang.annotation.Inherited}, so a subclass gets them; one that needs other iteration times
 * (or a {@code @State}) declares that annotation itself, which takes precedence.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public abstract class ThroughputBenchmark {
    /** For subclasses (JMH instantiates them). */
    protected ThroughputBenchmark() {
    }
}
