package dev.interlayer.nn;

/** Where QK-norm normalizes (ARCHITECTURES.md §2.4). */
public enum QkNorm {
    /** No QK-norm. */
    NONE,
    /** Per head over dh, gain [dh] shared by heads (Qwen 3, Gemma 3). */
    HEAD,
    /** Over the full projection width Hq·dh (k: Hkv·dh) before the head split (OLMo 2, OLMoE). */
    FLAT
}
