/**
 * Inference layers: immutable records of weight tensors plus hyperparameters (Linear, Embedding,
 * norms, feed-forward, attention, transformer blocks, encoder/decoder stacks), and the per-session
 * mutable state they run against (KV cache, scratch buffers, hidden-state taps). Activations are
 * F32; weights may be F32, F16 or BF16. Equations follow ARCHITECTURES.md §0–§2 and §6.1.
 */
package dev.interlayer.nn;
