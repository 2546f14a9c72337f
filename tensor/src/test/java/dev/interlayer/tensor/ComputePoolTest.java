package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ComputePool#parallelFor} inside {@link ComputePool#run} (where every decode step runs its
 * kernels): each chunk runs exactly once for any chunk count, nested loops work, the first failure
 * reaches the caller with its own type, and repeated calls allocate nothing (the reused per-thread job).
 */
class ComputePoolTest {
    private static final int THREADS = ComputePool.threads();

    @AfterEach
    void restoreThreads() {
        ComputePool.setThreads(THREADS);
    }

    @Test
    void everyChunkRunsExactlyOnceIncludingNestedLoops() {
        ComputePool.setThreads(2);
        for (int chunks : new int[] {1, 2, 3, 8, 100}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(chunks * 4);
            ComputePool.run(() -> ComputePool.parallelFor(chunks, c ->
                    ComputePool.parallelFor(4, d -> runs.incrementAndGet(c * 4 + d))));
            for (int i = 0; i < runs.length(); i++) {
                assertEquals(1, runs.get(i), "chunks=" + chunks + " cell " + i);
            }
        }
    }

    @Test
    void theFirstFailureReachesTheCallerWithItsType() {
        ComputePool.setThreads(2);
        IllegalStateException boom = new IllegalStateException("chunk 5");
        var e = assertThrows(IllegalStateException.class, () -> ComputePool.run(() ->
                ComputePool.parallelFor(16, c -> {
                    if (c == 5) {
                        throw boom;
                    }
                })));
        // run() hands the body to the pool with ForkJoinPool.invoke, which rethrows a same-type copy
        // whose cause is the original; either way the caller sees the chunk's own exception type.
        assertTrue(e == boom || e.getCause() == boom, "got " + e);
        AtomicIntegerArray runs = new AtomicIntegerArray(16);     // the pool is still usable afterwards
        ComputePool.run(() -> ComputePool.parallelFor(16, runs::incrementAndGet));
        for (int i = 0; i < 16; i++) {
            assertEquals(1, runs.get(i));
        }
    }

    @Test
    void loopsCalledFromOutsideThePoolRunEveryChunkOnceAndAllocateNothing() {
        ComputePool.setThreads(2);
        AtomicIntegerArray runs = new AtomicIntegerArray(37);
        ComputePool.parallelFor(37, runs::incrementAndGet);
        for (int i = 0; i < 37; i++) {
            assertEquals(1, runs.get(i), "chunk " + i);
        }
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] sink = new float[8];
        IntConsumer body = c -> sink[c] += 1f;
        int calls = 20_000;
        for (int i = 0; i < calls; i++) {                         // warm-up
            ComputePool.parallelFor(8, body);
        }
        long before = mx.getTotalThreadAllocatedBytes();
        for (int i = 0; i < calls; i++) {
            ComputePool.parallelFor(8, body);
        }
        long perCall = (mx.getTotalThreadAllocatedBytes() - before) / calls;
        // An external ForkJoinPool.invoke waits through the pool (measured ~23 B per call); the recursive
        // split this replaced allocated ~480 B per 8-chunk call.
        assertTrue(perCall < 64, "parallelFor from outside the pool allocated " + perCall + " B per call");
    }

    @Test
    void repeatedLoopsInsideRunAllocateNothing() {
        ComputePool.setThreads(2);
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] sink = new float[8];
        IntConsumer body = c -> sink[c] += 1f;
        int calls = 20_000;
        Runnable loops = () -> {
            for (int i = 0; i < calls; i++) {
                ComputePool.parallelFor(8, body);
            }
        };
        ComputePool.run(loops);                                   // warm-up: JIT, per-thread jobs
        long before = mx.getTotalThreadAllocatedBytes();
        ComputePool.run(loops);
        long perCall = (mx.getTotalThreadAllocatedBytes() - before) / calls;
        // The recursive split this replaced allocated ~450 B per 8-chunk call; ComputePool.run's own
        // adapter and other threads' noise are spread over 20 000 calls.
        assertTrue(perCall < 16, "parallelFor inside run allocated " + perCall + " B per call");
    }
}
