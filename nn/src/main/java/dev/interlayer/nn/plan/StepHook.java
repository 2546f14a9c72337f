package dev.interlayer.nn.plan;

import dev.interlayer.tensor.Tensor;

/**
 * Called by {@link PlannedStack} on the residual stream: once with step = -1 on the embedding output x₀,
 * then after every sequential step and after every parallel group (with the index of the group's last
 * step). The hook may read x (taps, scores) or modify it in place (activation patching, cross-layer
 * averaging); what it leaves in x is what the next step consumes.
 */
@FunctionalInterface
public interface StepHook {
    /**
     * @param step      step index (-1 = embedding output)
     * @param x         the residual stream [T, d] of the current call (a view; do not keep it)
     * @param positions the call's explicit positions, or null for the implicit ones
     */
    void after(int step, Tensor x, int[] positions);

    /** This hook, then {@code next} (for example a mechanism that rewrites x, then a tap that records it). */
    default StepHook andThen(StepHook next) {
        return (step, x, positions) -> {
            after(step, x, positions);
            next.after(step, x, positions);
        };
    }
}
