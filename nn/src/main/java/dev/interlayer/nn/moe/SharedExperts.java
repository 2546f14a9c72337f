package dev.interlayer.nn.moe;

/**
 * How a shared expert, run on every token, joins the routed output y (shared experts: Dai et al. 2024,
 * "DeepSeekMoE: Towards Ultimate Expert Specialization in Mixture-of-Experts Language Models").
 */
public enum SharedExperts {
    /** No shared expert (Mixtral, OLMoE). */
    NONE,
    /** y += sigmoid(w_sg·u)·Shared(u) (Qwen2-MoE). */
    GATED,
    /** y += Shared(u), always on (DeepSeekMoE / V2 / V3). */
    ALWAYS
}
