package dev.interlayer.models.serve;

import dev.interlayer.models.generate.GenerationResult;
import dev.interlayer.models.generate.GenerationRun;
import dev.interlayer.models.generate.Generator;

/**
 * One request's generation inside the {@link Scheduler}: its {@link GenerationRun} (own session and KV cache)
 * and the {@link Sink} its text goes to. Created by {@link Scheduler#submit}; the run exists once the scheduler
 * admits the slot, which then prefills its prompt a slice per scheduler iteration. {@link #cancel()} may be called from any thread (a client that went
 * away, a timeout); everything else happens on the scheduler thread.
 */
public final class Slot {
    /** Where a slot's output goes; called on the scheduler thread, must not block. */
    public interface Sink {
        /** Newly streamable text (never part of a stop string). */
        void text(String piece);

        /** Generation ended normally. */
        void done(GenerationResult result);

        /** Generation failed; no further calls follow. */
        void failed(Throwable error);
    }

    private final Generator generator;
    private final int[] prompt;
    private final Sink sink;
    private volatile boolean cancelled;
    private GenerationRun run;
    private boolean finished;

    Slot(Generator generator, int[] prompt, Sink sink) {
        this.generator = generator;
        this.prompt = prompt;
        this.sink = sink;
    }

    /** The generation; null until the scheduler admits the slot. */
    public GenerationRun run() {
        return run;
    }

    /** Asks the scheduler to drop this slot at its next step (its session is then freed). Thread-safe. */
    public void cancel() {
        cancelled = true;
    }

    /** True once {@link #cancel()} was called. */
    public boolean cancelled() {
        return cancelled;
    }

    /** Ends this slot with an error reported to its sink; the scheduler removes it after the step. */
    public void fail(Throwable error) {
        if (!finished) {
            finished = true;
            sink.failed(error);
        }
    }

    // ---- scheduler side ----

    // Creates the run (its session and KV cache); the prompt goes in by prefillSlice.
    void start() {
        run = generator.start(prompt, t -> {
            if (!t.text().isEmpty()) {
                sink.text(t.text());
            }
        });
    }

    // Appends the next slice of the prompt; true once the prompt is in and the first token picked.
    boolean prefillSlice(int tokens) {
        return run.prefillSlice(tokens);
    }

    // True once the prompt is in: the slot takes part in decode steps.
    boolean prefilled() {
        return run != null && run.prefilled();
    }

    // True when the scheduler should remove this slot: done, failed or cancelled.
    boolean over() {
        return finished || cancelled || run.done();
    }

    // True if fail() already reported an error.
    boolean failedAlready() {
        return finished;
    }

    // Reports the result of a run that ended normally (once).
    void complete() {
        if (!finished && !cancelled) {
            finished = true;
            sink.done(run.finish());
        }
    }
}
