/**
 * Gemma 2 and Gemma 3 decoders (Peri-LN sandwich norms, (1+w) RMSNorm gains in HF checkpoints,
 * sqrt(d) embedding scale, attention/final logit soft-capping, local/global sliding-window layers,
 * Gemma 3 per-head QK-norm and dual RoPE bases), loaded from HF folders or GGUF.
 */
package dev.interlayer.models.gemma;
