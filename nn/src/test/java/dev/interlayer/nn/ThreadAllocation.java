package dev.interlayer.nn;

import dev.interlayer.tensor.ComputePool;
import java.lang.management.ManagementFactory;

/**
 * The bytes the calling thread has allocated so far (HotSpot's per-thread counter), for the decode-allocation
 * probes that run in a child JVM. The counter is per thread, so {@link #onThisThread()} first sizes
 * {@link ComputePool} to one thread: all work then runs on the caller and is counted.
 */
public final class ThreadAllocation {
    private final com.sun.management.ThreadMXBean bean;
    private final long tid;

    private ThreadAllocation() {
        bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        tid = Thread.currentThread().threadId();
    }

    /** Keeps all compute on the calling thread and counts that thread's allocations. */
    public static ThreadAllocation onThisThread() {
        ComputePool.setThreads(1);
        return new ThreadAllocation();
    }

    /** Bytes allocated by the thread that called {@link #onThisThread()}, since it started. */
    public long bytes() {
        return bean.getThreadAllocatedBytes(tid);
    }
}
