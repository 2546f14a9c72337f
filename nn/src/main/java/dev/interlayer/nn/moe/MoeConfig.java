package dev.interlayer.nn.moe;

/**
 * Hyperparameters of a token-choice top-k MoE layer with softmax scores s = softmax(u·W_rᵀ) (Mixtral, Qwen2-MoE).
 *
 * @param hidden     model width d
 * @param numExperts E
 * @param topK       k experts per token (1 ≤ k ≤ E)
 * @param normTopK   renormalize the k selected probabilities to sum to 1 (Mixtral always; Qwen norm_topk_prob)
 * @param shared     shared-expert mode
 */
public record MoeConfig(int hidden, int numExperts, int topK, boolean normTopK, SharedExperts shared) {
    /**
     * Validates the routing options.
     *
     * @throws IllegalArgumentException if hidden or numExperts is below 1, topK is outside [1, numExperts], or shared is
     *                                  null
     */
    public MoeConfig {
        if (hidden < 1) {
            throw new IllegalArgumentException("hidden must be >= 1, got " + hidden);
        }
        if (numExperts < 1) {
            throw new IllegalArgumentException("numExperts must be >= 1, got " + numExperts);
        }
        if (topK < 1 || topK > numExperts) {
            throw new IllegalArgumentException("topK " + topK + " must be in [1, numExperts=" + numExperts + "]");
        }
        if (shared == null) {
            throw new IllegalArgumentException("shared must not be null (use SharedExperts.NONE)");
        }
    }
}
