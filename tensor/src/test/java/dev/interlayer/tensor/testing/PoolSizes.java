package dev.interlayer.tensor.testing;

import dev.interlayer.tensor.ComputePool;
import java.util.function.IntConsumer;

/**
 * Runs a test body once per {@link ComputePool} size and then gives the pool back the size it had, also when the
 * body fails: the pool is process-wide, so a test that left it at 1 thread would change what later tests measure.
 */
public final class PoolSizes {
    private PoolSizes() {
    }

    /** {@code body(t)} with the pool at t = 1 and then t = 2 threads (the kernels' serial and split paths). */
    public static void oneAndTwo(IntConsumer body) {
        each(new int[] {1, 2}, body);
    }

    /** {@code body(t)} with the pool at each size t of {@code sizes} in turn. */
    public static void each(int[] sizes, IntConsumer body) {
        int before = ComputePool.threads();
        try {
            for (int t : sizes) {
                ComputePool.setThreads(t);
                body.accept(t);
            }
        } finally {
            ComputePool.setThreads(before);
        }
    }
}
