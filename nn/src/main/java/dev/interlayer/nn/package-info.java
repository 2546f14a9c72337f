/**
 * Inference layers: immutable records of weight tensors plus hyperparameters (Linear, Embedding,
 * norms, feed-forward, attention, transformer blocks, encoder/decoder stacks), and the per-session
 * mutable state they run against (KV cache, scratch buffers, hidden-state taps). Activations are
 * F32; weights may be F32, F16 or BF16. Each class states its equations and names the paper or model they
 * come from. Linear layers store W as [out, in] and compute y = x·Wᵀ + b; the canonical (Pre-LN) block is
 * h = x + Attn(N₁(x)), x' = h + FFN(N₂(h)), and the other placements and mechanisms are changes to it.
 */
package dev.interlayer.nn;
