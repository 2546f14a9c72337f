/**
 * Cross-layer connections composed around a {@link dev.interlayer.nn.DecoderStack}'s unchanged blocks: DenseFormer
 * depth-weighted averaging (a {@link dev.interlayer.nn.plan.StepHook}), static hyper-connections, MUDDFormer, and
 * the attention-level mechanisms of {@link dev.interlayer.nn.crosslayer.CrossLayerStack} (value residual, KV
 * shifting, persistent memory, cross-layer KV sharing with the cache memory it saves).
 *
 * <p>The attention-level mechanisms and MUDDFormer run their attention in this package (scalar loops over the
 * blocks' own weights) because the engine's attention keeps its projections and cache private; hooks that would
 * move them into the engine are listed on {@link dev.interlayer.nn.crosslayer.CrossLayerStack}.
 */
package dev.interlayer.nn.crosslayer;
