/**
 * Cross-layer connections composed around a {@link dev.interlayer.nn.DecoderStack}'s unchanged blocks: DenseFormer
 * depth-weighted averaging (a {@link dev.interlayer.nn.plan.StepHook}), static hyper-connections, MUDDFormer, and
 * the attention-level mechanisms of {@link dev.interlayer.nn.crosslayer.CrossLayerStack} (value residual, KV
 * shifting, persistent memory, cross-layer KV sharing with the cache memory it saves).
 *
 * <p>The attention-level mechanisms and MUDDFormer run the engine's {@link dev.interlayer.nn.Attention} (its
 * projections, RoPE, {@link dev.interlayer.nn.KvCache} and SIMD core); what they change sits around that core:
 * a {@link dev.interlayer.nn.KvTransform} on the new keys and values (value residual, KV shift), persistent slots
 * and shared-cache states on {@link dev.interlayer.nn.Attention.State}, and MUDDFormer's three input streams.
 */
package dev.interlayer.nn.crosslayer;
