package dev.interlayer.nn.moe;

/**
 * Expert capacity with token dropping (GShard, Lepikhin et al. 2020; Switch Transformers, Fedus et al.
 * 2021): each expert processes at most C = ceil(capacityFactor·k·N / E) of the N tokens of a call;
 * assignments claim slots first by rank (every token's first choice before any second choice) and then in
 * sequence order, and an assignment over capacity is dropped: it contributes 0 (only the residual passes).
 *
 * <p>{@link DropPolicy#HF_SWITCH_PASSTHROUGH} reproduces HF SwitchTransformers instead: a dropped assignment
 * contributes w·u_t (the input scaled by its router weight; for top-1 Switch routing, the router probability).
 *
 * <p>Opt-in and non-causal: whether a token is dropped depends on the other tokens of the call, so a
 * layer with a capacity limit is refused on continuation calls, like the non-causal routers. Released
 * decoder models are evaluated without dropping.
 *
 * @param capacityFactor the factor on the balanced load k·N/E (&gt; 0)
 * @param policy         what a dropped assignment contributes
 */
public record CapacityLimit(double capacityFactor, DropPolicy policy) {
    /** What a dropped assignment contributes to the layer output. */
    public enum DropPolicy {
        /** Nothing (GShard, torchscale): only the residual passes. */
        ZERO,
        /** w·u_t, HF SwitchTransformers' quirk. */
        HF_SWITCH_PASSTHROUGH
    }

    /** @throws IllegalArgumentException unless capacityFactor is positive and finite and policy is given */
    public CapacityLimit {
        if (!(capacityFactor > 0) || Double.isInfinite(capacityFactor) || policy == null) {
            throw new IllegalArgumentException("capacityFactor must be positive and finite and policy non-null, got "
                    + capacityFactor + ", " + policy);
        }
    }

    /** Dropped assignments contribute 0. */
    public CapacityLimit(double capacityFactor) {
        this(capacityFactor, DropPolicy.ZERO);
    }

    /** C = ceil(capacityFactor·k·N / E). */
    public int capacity(int tokens, int k, int experts) {
        return (int) Math.ceil(capacityFactor * k * tokens / experts);
    }

    /** Marks the assignments over capacity as dropped. {@code used} has room for E counters. */
    void apply(Routing r, int k, int[] used) {
        int e = r.experts(), cap = capacity(r.tokens(), k, e);
        java.util.Arrays.fill(used, 0, e, 0);
        int maxRank = 0;
        for (int i = 0; i < r.count(); i++) {
            maxRank = Math.max(maxRank, r.rank(i));
        }
        // assignments are stored token-major; a pass per rank gives rank-then-sequence priority
        for (int rank = 0; rank <= maxRank; rank++) {
            for (int i = 0; i < r.count(); i++) {
                if (r.rank(i) == rank && used[r.expert(i)]++ >= cap) {
                    r.drop(i);
                }
            }
        }
    }
}
