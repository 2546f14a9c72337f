package dev.interlayer.bench;

import dev.interlayer.bench.Counters.Bytes;
import dev.interlayer.tensor.ComputePool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Streaming read bandwidth: Σ over an off-heap buffer larger than the caches, split over
 * {@code threads}. The {@code bytes} counter is bytes read per second (GB/s after / 1e9).
 */
@State(Scope.Benchmark)
public class BandwidthBench extends ThroughputBenchmark {
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
