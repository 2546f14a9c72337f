/**
 * Token-choice mixture-of-experts feed-forward layers (ARCHITECTURES.md §5.1–5.2, §5.10): a linear
 * router, softmax → top-k with optional renormalization, optional shared experts, per-call router
 * statistics, and the per-layer dense-vs-MoE rules of released families.
 */
package dev.interlayer.nn.moe;
