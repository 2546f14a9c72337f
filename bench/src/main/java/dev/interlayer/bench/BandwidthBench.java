package dev.interlayer.bench;

import dev.interlayer.bench.Counters.Bytes;
import dev.interlayer.tensor.ComputePool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
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
 * Streaming read bandwidth: Σ over an off-heap buffer larger than the caches, split over
 * {@code threads}. The {@code bytes} counter is bytes read per second (GB/s after / 1e9).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class BandwidthBench {
    @Param({"256"})
    int megabytes;
    @Param({"1", "2"})
    int threads;
    Arena arena;
    MemorySegment buffer;

    @Setup(Level.Trial)
    public void setup() {
        ComputePool.setThreads(threads);
        arena = Arena.ofShared();
        buffer = arena.allocate((long) megabytes << 20, 64);
        buffer.fill((byte) 1);     // touch every page
    }

    @TearDown(Level.Trial)
    public void close() {
        arena.close();
    }

    @Benchmark
    public float streamingSum(Bytes b) {
        b.bytes += buffer.byteSize();
        return StreamSum.sum(buffer, threads);
    }
}
