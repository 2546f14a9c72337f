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
 * kernels): each chunk runs exactly once for any chunk count, nested loops work, slow chunks are joined,
 * the first failure reaches the caller as thrown, and repeated calls allocate nothing (the reused
 * per-thread job and tasks, a parked rather than joining caller).
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
        // run() waits on its own task (not ForkJoinPool.invoke, which rethrows a same-type copy): the caller
        // gets the chunk's exception object itself.
        assertTrue(e == boom, "got " + e);
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
        // The caller parks on the task's own flag: 0 B measured. ForkJoinPool.invoke, used before, allocated
        // a 24 B wait node per call; the recursive split before that ~480 B per 8-chunk call.
        assertTrue(perCall < 8, "parallelFor from outside the pool allocated " + perCall + " B per call");
    }

    @Test
    void runFromOutsideThePoolAllocatesNothing() {
        ComputePool.setThreads(2);
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] sink = new float[1];
        Runnable step = () -> sink[0] += 1f;
        int calls = 20_000;
        for (int i = 0; i < calls; i++) {                         // warm-up
            ComputePool.run(step);
        }
        long before = mx.getTotalThreadAllocatedBytes();
        for (int i = 0; i < calls; i++) {
            ComputePool.run(step);
        }
        long perCall = (mx.getTotalThreadAllocatedBytes() - before) / calls;
        assertEquals(2f * calls, sink[0]);
        // One run() per decode step; ForkJoinPool.invoke's blocking join allocated 24 B per call here.
        assertTrue(perCall < 8, "run from outside the pool allocated " + perCall + " B per call");
    }

    /**
     * Chunks that outlast the joining thread's spin (2 ms against 0.2 ms): the join then blocks, and every
     * chunk still runs once. Also run() bodies slower than a scheduler tick, so the caller really parks.
     */
    @Test
    void slowChunksAreJoinedAfterTheSpin() {
        ComputePool.setThreads(2);
        for (int chunks : new int[] {2, 3, 8}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(chunks);
            ComputePool.run(() -> ComputePool.parallelFor(chunks, c -> {
                if (c % 2 == 1) {
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                runs.incrementAndGet(c);
            }));
            for (int i = 0; i < chunks; i++) {
                assertEquals(1, runs.get(i), "chunks=" + chunks + " chunk " + i);
            }
        }
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
