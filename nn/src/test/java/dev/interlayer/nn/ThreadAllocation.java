package dev.interlayer.nn;

import dev.interlayer.tensor.ComputePool;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * The bytes the calling thread has allocated so far (HotSpot's per-thread counter), for the decode-allocation
 * probes that run in a child JVM. The counter is per thread, so {@link #onThisThread()} first sizes
 * {@link ComputePool} to one thread: all work then runs on the caller and is counted.
 */
public final class ThreadAllocation {
    /**
     * Allowed bytes per decode step (or emitted token) after warm-up. Measured after warm-up: 0 for single and
     * batched decode, dense and MoE (batched decode was 112-238 B/step until MatMul's shared-rows product stopped
     * allocating an array per call); self-speculative decoding 13-26 B/token (its result, once per call). 256 B/step
     * leaves room for a JIT that keeps a small allocation for good, and still catches one leaked Tensor view,
     * lambda or row cursor per layer (about 100 B or more each, two layers).
     */
    public static final long BOUND_BYTES = 256;
    /** Warm-up deadline: generous, CI and this shared 2-core machine are slow (here warm-up takes 0.5–3 s). */
    public static final long WARMUP_NANOS = 30_000_000_000L;
    /** Consecutive warm-up rounds within the bound after which allocation counts as settled (~0.5 s here). */
    public static final int SETTLED = 100;

    /** Rounds measured after warm-up; the reported figure is their median. */
    public static final int MEASURED_ROUNDS = 5;

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

    /**
     * Warms a decode path up before its measured round: runs {@code round} (which returns the bytes per step of one
     * round of {@code steps} steps and leaves the state as it found it) until {@link #SETTLED} rounds in a row stay
     * within {@link #BOUND_BYTES} (a JIT that keeps a small allocation for good) or, with {@code stopAtZero}, one
     * round allocates nothing, at most until {@link #WARMUP_NANOS}; prints
     * "warm-up: R rounds of N UNITs in S s, bytes/UNIT first F, last L" for the test's report.
     */
    public static void warmUp(LongSupplier round, int steps, String unit, boolean stopAtZero) {
        long start = System.nanoTime(), first = -1, last;
        int rounds = 0, within = 0;
        do {
            last = round.getAsLong();
            first = first < 0 ? last : first;
            within = last <= BOUND_BYTES ? within + 1 : 0;
            rounds++;
        } while (!(stopAtZero && last == 0) && within < SETTLED && System.nanoTime() - start < WARMUP_NANOS);
        System.out.printf("warm-up: %d rounds of %d %ss in %.1f s, bytes/%s first %d, last %d%n", rounds, steps, unit,
                (System.nanoTime() - start) / 1e9, unit, first, last);
    }

    /**
     * Measures {@link #MEASURED_ROUNDS} rounds after warm-up and prints "KEY=M measured=[...]", M their median. A
     * per-step allocation shows in every round; a one-off JVM event (a late recompilation running through the
     * interpreter, a deoptimization) lands in one round: CI once saw 100 settled warm-up rounds at 112 B/step and
     * then a single measured round at 290 B/step (9 KB once). The median keeps the first and ignores the second.
     */
    public static void printMedian(LongSupplier round, String key) {
        long[] rounds = new long[MEASURED_ROUNDS];
        for (int i = 0; i < rounds.length; i++) {
            rounds[i] = round.getAsLong();
        }
        String each = java.util.Arrays.toString(rounds);
        java.util.Arrays.sort(rounds);
        System.out.println(key + "=" + rounds[rounds.length / 2] + " measured=" + each);
    }
}
