package dev.interlayer.nn.moe;

import dev.interlayer.tensor.Tensor;

/**
 * Chooses, for each token of a call, the experts that process it and their combine weights: the
 * pluggable part of {@link RoutedMoe}. Every router fills a {@link Routing} with the raw logits z_t,
 * normalized scores s_t (a probability row, used by {@link RouterStats}) and a list of
 * (token, expert, weight) assignments; the layer then computes y_t = Σ w·Expert_e(u_t).
 *
 * <p>A router is <em>causal</em> when a token's assignments depend only on that token (and on state
 * carried across layers for the same token), so running a sequence in one call equals running it
 * token by token. Non-causal routers (expert choice, BASE balanced assignment) couple the tokens of one
 * call; {@link RoutedMoe} refuses to run them on a continuation call (past &gt; 0), where there is no
 * faithful definition.
 *
 * <p>Implementations are immutable; per-session buffers live in the object made by {@link #newScratch}.
 */
public interface Router {
    /** Number of experts E. */
    int numExperts();

    /** Width of the selection input u (the model width d for linear routers), or −1 if the router ignores it. */
    int inputWidth();

    /** Whether routing is token-wise (prefill equals token-by-token decode). */
    boolean causal();

    /** Upper bound on the assignments this router makes for a call of {@code tokens} tokens. */
    int maxAssignments(int tokens);

    /** Per-session buffers for calls of up to {@code maxTokens} tokens, or null when none are needed. */
    default Object newScratch(int maxTokens) {
        return null;
    }

    /**
     * Routes the T = u.dim(0) tokens of one call. Shapes: u [T, inputWidth]. Writes {@code out} (after
     * {@link Routing#begin}); may read and update the {@code context} (token ids, recurrent state).
     */
    void route(Tensor u, RoutingContext context, Routing out, Object scratch);
}
