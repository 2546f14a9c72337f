package dev.interlayer.nn.moe;

/**
 * A token-choice router: each token picks its k experts from its own scores, so routing is causal (prefill equals
 * token-by-token decode) and a call of T tokens makes at most T·k assignments. {@link TopKRouter} and
 * {@link RecurrentRouter} are of this form.
 */
public interface TokenChoiceRouter extends Router {
    /** k, the experts per token, 1 ≤ k ≤ E. */
    int topK();

    /** Always true: a token's experts depend only on that token (and on state carried across its layers). */
    @Override
    default boolean causal() {
        return true;
    }

    /** T·k. */
    @Override
    default int maxAssignments(int tokens) {
        return tokens * topK();
    }
}
