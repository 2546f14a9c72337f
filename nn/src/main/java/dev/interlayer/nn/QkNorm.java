package dev.interlayer.nn;

/**
 * Where QK-norm normalizes queries and keys before the dot product, bounding attention logits (Henry et al. 2020,
 * "Query-Key Normalization for Transformers"; Gemma 3 uses it in place of soft-capping). The two layouts in
 * released models are not interchangeable.
 */
public enum QkNorm {
    /** No QK-norm. */
    NONE,
    /** Per head over dh, gain [dh] shared by heads (Qwen 3, Gemma 3). */
    HEAD,
    /** Over the full projection width Hq·dh (k: Hkv·dh) before the head split (OLMo 2, OLMoE). */
    FLAT
}
