/**
 * Transformer-XL (Dai et al., "Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context", ACL 2019):
 * segment-level recurrence (each layer also attends to the previous segment's inputs of that layer, kept as a
 * memory) with relative positional attention (sinusoids of the distance, two learned global biases).
 *
 * <p>A research path of its own: the score adds a distance-dependent term that {@link dev.interlayer.nn.Attention}
 * does not have, and the memory holds hidden states (keys and values are re-projected from them each segment), not
 * a KV cache. Verified against reference/research/xl_reference.py (float64 PyTorch in the structure of the paper's
 * released code).
 */
package dev.interlayer.nn.xl;
