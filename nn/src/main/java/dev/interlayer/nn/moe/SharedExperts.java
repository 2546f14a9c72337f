package dev.interlayer.nn.moe;

/** How a shared expert joins the routed output (§5.2). */
public enum SharedExperts {
    /** No shared expert (Mixtral, OLMoE). */
    NONE,
    /** y += sigmoid(w_sg·u)·Shared(u) (Qwen2-MoE). */
    GATED,
    /** y += Shared(u), always on (DeepSeekMoE / V2 / V3). */
    ALWAYS
}
