package dev.interlayer.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The thread pool that kernels split work on. Library-owned (never the common pool); its size is
 * set by {@link #setThreads(int)}, else by the system property {@code interlayer.threads}, else by
 * {@link Runtime#availableProcessors()}.
 */
public final class ComputePool {
    private static volatile ForkJoinPool pool;
    private static volatile int threads = defaultThreads();

    private ComputePool() {
    }

    private static int defaultThreads() {
        String p = System.getProperty("interlayer.threads");
        if (p != null && !p.isBlank()) {
            int t = Integer.parseInt(p.trim());
            if (t < 1) {
                throw new IllegalArgumentException("interlayer.threads must be >= 1, got " + t);
            }
            return t;
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Nesting depth of {@link #parallelTasks} bodies on this thread (kernels inside them run on one thread). */
    private static final ThreadLocal<int[]> SERIAL = ThreadLocal.withInitial(() -> new int[1]);

    /** Number of threads kernels use: 1 inside a {@link #parallelTasks} task, whose thread is the task's alone. */
    public static int threads() {
        int t = threads;
        return t == 1 || SERIAL.get()[0] == 0 ? t : 1;
    }

    /** One of {@link #parallelTasks}' independent tasks. */
    @FunctionalInterface
    public interface Task {
        /**
         * Runs task {@code task} on the thread holding {@code slot} (0 ≤ slot &lt; the slots asked for): no two
         * tasks run on one slot at the same time, so per-slot scratch needs no locking.
         */
        void run(int task, int slot);
    }

    /**
     * Runs tasks 0 .. tasks−1 spread over up to {@code slots} threads (taken from a shared counter, so uneven
     * tasks balance), each task on one thread: kernels called inside a task see {@link #threads()} = 1 and do
     * not split their work further. For many independent medium-sized jobs (a mixture-of-experts layer's
     * per-expert GEMMs): one parallel region instead of one per kernel, and no kernel split too thin.
     * Allocates a little per call (not for decode loops).
     */
    public static void parallelTasks(int tasks, int slots, Task body) {
        int parts = Math.min(Math.min(slots, threads()), tasks);
        if (parts <= 1) {
            for (int i = 0; i < tasks; i++) {
                body.run(i, 0);
            }
            return;
        }
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        parallelFor(parts, slot -> {
            int[] depth = SERIAL.get();
            depth[0]++;
            try {
                for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                    body.run(i, slot);
                }
            } finally {
                depth[0]--;
            }
        });
    }

    /** Sets the number of threads kernels use (>= 1); replaces the pool. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        if (n != threads) {
            ForkJoinPool old = pool;
            pool = null;
            threads = n;
            if (old != null) {
                old.shutdown();
            }
        }
    }

    private static ForkJoinPool pool() {
        ForkJoinPool p = pool;
        if (p == null) {
            synchronized (ComputePool.class) {
                p = pool;
                if (p == null) {
                    p = new ForkJoinPool(threads, ComputePool::newWorker, null, false);
                    pool = p;
                }
            }
        }
        return p;
    }

    // getPoolIndex() is assigned only when the pool registers the thread, after this factory returns
    // (every worker was named "-0"), so workers are numbered here, across pool rebuilds.
    private static final java.util.concurrent.atomic.AtomicInteger WORKERS = new java.util.concurrent.atomic.AtomicInteger();

    private static java.util.concurrent.ForkJoinWorkerThread newWorker(ForkJoinPool p) {
        var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
        t.setName("interlayer-compute-" + WORKERS.getAndIncrement());
        t.setDaemon(true);
        return t;
    }

    /**
     * Runs {@code body} on a pool thread and waits for it, rethrowing its failure. Kernels called
     * inside then split their work with that thread taking part, instead of handing every call to the
     * pool and parking the caller until it is done: one hand-off per {@code body} rather than one per
     * kernel (about 10% on a 2-thread decode step of ~100 matrix-vector products). Runs {@code body}
     * directly with one thread or when already on the pool.
     */
    public static void run(Runnable body) {
        if (threads == 1) {
            body.run();
            return;
        }
        ForkJoinPool p = pool();
        if (ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == p) {
            body.run();
            return;
        }
        ExternalTask task = ExternalTask.lease();
        try {
            task.body = body;
            task.runOn(p);
        } finally {
            ExternalTask.release(task);
        }
    }

    /**
     * What a thread outside the pool hands over and waits for: a {@link #run} body, or a whole
     * {@link #parallelFor} loop. One reusable task per calling thread (reinitialized per call). The caller
     * parks on the task's own flag rather than joining: a join that has to block allocates a wait node
     * (ForkJoinTask$Aux, 24 B) per call, once per decode step. Failures are rethrown as thrown (unchecked
     * ones unwrapped).
     */
    private static final class ExternalTask extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private static final ThreadSlot<ExternalTask> SLOT = new ThreadSlot<>();
        private transient Runnable body;           // run(body), or else
        private transient IntConsumer loop;        // parallelFor(chunks, loop)
        private int chunks;
        private transient volatile boolean finished;
        private transient Thread caller;
        private transient Throwable failure;

        static ExternalTask lease() {
            ExternalTask t = SLOT.lease();
            if (t == null) {
                return new ExternalTask();
            }
            t.reinitialize();
            return t;
        }

        static void release(ExternalTask t) {
            t.body = null;                         // do not keep the caller's work reachable
            t.loop = null;
            SLOT.release(t);
        }

        @Override
        protected void compute() {
            try {
                if (body != null) {
                    body.run();
                } else {
                    parallelFor(chunks, loop);
                }
            } catch (Throwable t) {
                failure = t;
            } finally {
                finished = true;                     // publishes failure
                java.util.concurrent.locks.LockSupport.unpark(caller);
            }
        }

        /** Hands this task to {@code p} and parks until it has run, rethrowing its failure. */
        void runOn(ForkJoinPool p) {
            caller = Thread.currentThread();
            finished = false;
            failure = null;
            p.execute(this);
            while (!finished) {
                java.util.concurrent.locks.LockSupport.park(this);
            }
            while (!isDone()) {                      // the pool completes the task just after compute returns
                Thread.onSpinWait();
            }
            caller = null;
            Throwable t = failure;
            failure = null;
            rethrow(t);
        }
    }

    private static void rethrow(Throwable t) {
        if (t == null) {
            return;
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new java.util.concurrent.CompletionException(t);
    }

    /**
     * Runs {@code body.accept(chunk)} for chunk in [0, chunks), in parallel when there is more than one
     * thread and more than one chunk. Returns when all chunks are done; rethrows the first failure.
     */
    public static void parallelFor(int chunks, IntConsumer body) {
        if (chunks <= 0) {
            return;
        }
        if (chunks == 1 || threads() == 1) {
            for (int c = 0; c < chunks; c++) {
                body.accept(c);
            }
            return;
        }
        ForkJoinPool p = pool();
        if (ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == p) {
            // Inside run() (every decode step): reusable per-thread job, nothing allocated per call.
            Job job = Job.lease(threads - 1);
            try {
                job.run(chunks, body, Math.min(threads, chunks) - 1);
            } finally {
                Job.release(job);
            }
        } else {
            // From outside the pool: hand the whole loop over once, with a reusable task, and split it there.
            ExternalTask task = ExternalTask.lease();
            try {
                task.chunks = chunks;
                task.loop = body;
                task.runOn(p);
            } finally {
                ExternalTask.release(task);
            }
        }
    }

    /**
     * One parallelFor on a pool thread: chunks are handed out from a shared counter to the calling
     * thread and to {@code helpers} forked tasks, which are reused across calls (reinitialized after
     * each join), so a decode step's ~100 parallel regions allocate nothing here. The chunk bodies run
     * exactly once each; the first failure stops the rest and is rethrown to the caller.
     */
    private static final class Job {
        /** How long a joining thread spins on a helper that is still running before it blocks. */
        private static final long JOIN_SPIN_NANOS = 200_000;

        // One job per pool thread; a nested parallelFor from inside a chunk gets a fresh one.
        private static final ThreadSlot<Job> SLOT = new ThreadSlot<>();

        private final Helper[] helpers;
        private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        private IntConsumer body;
        private int chunks;

        private Job(int helpers) {
            this.helpers = new Helper[helpers];
            for (int i = 0; i < helpers; i++) {
                this.helpers[i] = new Helper(this);
            }
        }

        static Job lease(int helpers) {
            Job j = SLOT.lease();
            return j != null && j.helpers.length >= helpers ? j : new Job(helpers);
        }

        static void release(Job j) {
            SLOT.release(j);
        }

        void run(int chunks, IntConsumer body, int helperCount) {
            this.body = body;
            this.chunks = chunks;
            next.set(0);
            failure.set(null);
            for (int i = 0; i < helperCount; i++) {
                helpers[i].reinitialize();
                helpers[i].fork();
            }
            drain();
            for (int i = helperCount - 1; i >= 0; i--) {
                Helper h = helpers[i];
                if (h.tryUnfork()) {          // never started (still on this thread's queue): no chunk left for it
                    h.invoke();
                    continue;
                }
                // Taken by another thread, which is finishing its last chunk. Spin briefly before joining: a
                // join that has to block allocates a wait node (ForkJoinTask$Aux, 24 B) each time, ~100 B per
                // 2-thread block decode step.
                for (long end = System.nanoTime() + JOIN_SPIN_NANOS; !h.isDone() && System.nanoTime() - end < 0; ) {
                    Thread.onSpinWait();
                }
                h.join();
            }
            this.body = null;
            Throwable t = failure.get();
            if (t != null) {
                failure.set(null);
                rethrow(t);
            }
        }

        void drain() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    body.accept(c);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    next.set(chunks);
                }
            }
        }
    }

    private static final class Helper extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final transient Job job;

        Helper(Job job) {
            this.job = job;
        }

        @Override
        protected void compute() {
            job.drain();
        }
    }

    private static final class Range extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final transient IntConsumer body;
        private final int lo, hi;

        Range(IntConsumer body, int lo, int hi) {
            this.body = body;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.accept(lo);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Range(body, lo, mid), new Range(body, mid, hi));
        }
    }
}
