package dev.interlayer.nn.plan;

/**
 * One execution step of an {@link ExecutionPlan}: which physical layer runs, whether it belongs to a
 * parallel-average group, and which of its sublayers run.
 *
 * <p>A step that skips attention leaves x unchanged through the attention sublayer (its input norm and
 * attention are removed, as in "What Matters in Transformers? Not All Attention is Needed"); skipping the
 * FFN does the same for the feed-forward sublayer. A step that skips both is not allowed (remove the step).
 *
 * @param layer    physical layer index (0-based) into the stack's blocks
 * @param group    parallel group id (≥ 0): consecutive steps with the same id read the same input h and
 *                 the group's output is the mean of their block outputs ("Transformer Layers as Painters");
 *                 -1 = sequential
 * @param skipAttn true to drop the attention sublayer at this step (no KV cache slot)
 * @param skipFfn  true to drop the feed-forward sublayer at this step
 */
public record Step(int layer, int group, boolean skipAttn, boolean skipFfn) {
    /**
     * Validates the step.
     *
     * @throws IllegalArgumentException if layer &lt; 0, group &lt; -1, or both sublayers are skipped
     */
    public Step {
        if (layer < 0) {
            throw new IllegalArgumentException("Step: layer must be >= 0, got " + layer);
        }
        if (group < -1) {
            throw new IllegalArgumentException("Step: group must be -1 (sequential) or >= 0, got " + group);
        }
        if (skipAttn && skipFfn) {
            throw new IllegalArgumentException("Step: layer " + layer + " skips both sublayers; drop the step instead");
        }
    }

    /** The full block of {@code layer}, sequential. */
    public static Step of(int layer) {
        return new Step(layer, -1, false, false);
    }

    /** True if the step runs attention (and so owns a KV cache slot). */
    public boolean runsAttention() {
        return !skipAttn;
    }

    /** True if the step is part of a parallel group. */
    public boolean parallel() {
        return group >= 0;
    }
}
