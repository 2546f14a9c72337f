package dev.interlayer.models.serve;

import dev.interlayer.models.generate.Generator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Continuous batching over {@code parallel} slots: one thread admits waiting requests into free slots, prefills
 * each new prompt by one {@link #PREFILL_SLICE} per iteration, then advances all prefilled slots together by one
 * {@link DecodeStep}, and removes each slot as soon as it is done, failed or cancelled, so a freed slot is
 * refilled at the next iteration. Requests beyond the free
 * slots wait in a queue of {@code queueCapacity}; {@link #submit} refuses when it is full.
 *
 * <p>Each slot owns its session and KV cache; nothing is shared between requests but the immutable model.
 */
public final class Scheduler implements AutoCloseable {
    /**
     * Prompt tokens a slot prefills per iteration before the decode step: a long prompt then delays the other
     * slots' next token by one slice, not by its whole prefill. A multiple of the sessions' prefill chunk
     * (128), so the slicing leaves every prompt's logits exactly as one prefill would.
     */
    public static final int PREFILL_SLICE = 128;

    /** Counters since start (for logs and tests). */
    public record Stats(long admitted, long completed, long cancelled, long failed, long rejected) {
    }

    private final int parallel;
    private final DecodeStep decodeStep;
    private final BlockingQueue<Slot> queue;
    private final List<Slot> active;                  // owned by the scheduler thread
    private final List<Slot> stepping;                // the active slots not cancelled, rebuilt each step
    private final Thread thread;
    private final AtomicLong admitted = new AtomicLong(), completed = new AtomicLong(), cancelled = new AtomicLong(),
            failed = new AtomicLong(), rejected = new AtomicLong();
    private volatile boolean running = true;

    /**
     * Starts the scheduler thread.
     *
     * @param parallel      sequences decoded at once (≥ 1)
     * @param queueCapacity requests that may wait for a slot (≥ 1)
     * @param decodeStep    how one step advances the active slots ({@link DecodeStep#sequential()})
     * @throws IllegalArgumentException for a parallel or queue size below 1
     */
    public Scheduler(int parallel, int queueCapacity, DecodeStep decodeStep) {
        if (parallel < 1 || queueCapacity < 1) {
            throw new IllegalArgumentException("scheduler: need parallel >= 1 and queue >= 1, got " + parallel + ", "
                    + queueCapacity);
        }
        this.parallel = parallel;
        this.decodeStep = java.util.Objects.requireNonNull(decodeStep, "decodeStep");
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.active = new ArrayList<>(parallel);
        this.stepping = new ArrayList<>(parallel);
        this.thread = Thread.ofPlatform().name("interlayer-scheduler").daemon(true).start(this::loop);
    }

    /**
     * Queues a generation of {@code generator} after {@code prompt}; its output goes to {@code sink}.
     *
     * @return the slot (cancel it to free it), or null if the queue is full
     */
    public Slot submit(Generator generator, int[] prompt, Slot.Sink sink) {
        Slot s = new Slot(generator, prompt, sink);
        if (!running || !queue.offer(s)) {
            rejected.incrementAndGet();
            return null;
        }
        return s;
    }

    /**
     * Cancels {@code slot}: a waiting slot leaves the queue at once, an active one is dropped (and its session
     * freed) before the next decode step.
     */
    public void cancel(Slot slot) {
        slot.cancel();
        if (queue.remove(slot)) {
            cancelled.incrementAndGet();
        }
    }

    /** The counters so far. */
    public Stats stats() {
        return new Stats(admitted.get(), completed.get(), cancelled.get(), failed.get(), rejected.get());
    }

    /** Requests waiting for a slot now. */
    public int waiting() {
        return queue.size();
    }

    /** Requests that may wait for a slot. */
    public int queueCapacity() {
        return queue.size() + queue.remainingCapacity();
    }

    /** Sequences decoded at once. */
    public int parallel() {
        return parallel;
    }

    private void loop() {
        while (running) {
            try {
                stepping.clear();   // before anything can fail, so the catch never sees last iteration's slots
                admit();
                if (active.isEmpty()) {
                    continue;
                }
                prefillSlices();
                for (Slot s : active) {
                    if (!s.cancelled() && s.prefilled() && !s.run().done()) {
                        stepping.add(s);
                    }
                }
                sweep();   // cancelled ones leave before the step, not after
                if (!stepping.isEmpty()) {
                    decodeStep.step(stepping);
                }
                sweep();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException | Error e) {
                // a decode step that failed as a whole fails every slot in it (not the ones still prefilling);
                // anything else that failed the iteration fails every active slot; the scheduler keeps serving
                for (Slot s : stepping.isEmpty() ? active : stepping) {
                    s.fail(e);
                }
                sweep();
            }
        }
        for (Slot s : active) {
            s.fail(new IllegalStateException("server shutting down"));
        }
        for (Slot s; (s = queue.poll()) != null; ) {
            s.fail(new IllegalStateException("server shutting down"));
        }
    }

    // Fills free slots from the queue; waits for work when nothing is active.
    private void admit() throws InterruptedException {
        while (active.size() < parallel) {
            Slot s = active.isEmpty() ? queue.poll(100, TimeUnit.MILLISECONDS) : queue.poll();
            if (s == null) {
                return;
            }
            if (s.cancelled()) {
                cancelled.incrementAndGet();
                continue;
            }
            admitted.incrementAndGet();
            try {
                s.start();
            } catch (RuntimeException | Error e) {   // e.g. no memory for its KV cache: fail this request only
                s.fail(e);
                failed.incrementAndGet();
                continue;
            }
            active.add(s);
            sweep();
        }
    }

    // One prompt slice for every slot still prefilling; a failure (e.g. a token id out of range) fails that slot.
    private void prefillSlices() {
        for (Slot s : active) {
            if (!s.cancelled() && !s.prefilled()) {
                try {
                    s.prefillSlice(PREFILL_SLICE);
                } catch (RuntimeException | Error e) {
                    s.fail(e);
                }
            }
        }
    }

    // Removes the slots that are over, reporting each finished result once.
    private void sweep() {
        for (int i = active.size() - 1; i >= 0; i--) {
            Slot s = active.get(i);
            if (s.over()) {
                active.remove(i);
                if (s.cancelled()) {
                    cancelled.incrementAndGet();
                } else if (s.run().done() && !s.failedAlready()) {
                    completed.incrementAndGet();      // before the sink hears of it: stats never lag a seen result
                    s.complete();
                } else {
                    failed.incrementAndGet();
                }
            }
        }
    }

    /** Stops the thread; queued and active requests fail with "server shutting down". */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
