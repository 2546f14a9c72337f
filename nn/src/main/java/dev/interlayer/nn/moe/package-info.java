/**
 * Mixture-of-experts layers, one code path. {@link dev.interlayer.nn.moe.RoutedMoe} takes a pluggable
 * {@link dev.interlayer.nn.moe.Router}: top-k with
 * softmax or sigmoid (σ-MoE) scores, hash layers, BASE layers, the layerwise recurrent router, expert choice,
 * with an optional capacity limit; its experts run grouped per expert (one GEMM per active expert and weight
 * matrix, {@link dev.interlayer.nn.moe.GroupedExperts}; for prefill-sized calls the experts run concurrently,
 * one thread each). {@link dev.interlayer.nn.moe.MoeFeedForward}, the layer of released checkpoints (Mixtral,
 * Qwen2-MoE, OLMoE, DeepSeek), is its softmax top-k configuration plus the shared expert.
 * SwitchHead attention and MoEUT layer grouping, the DEMix posterior mixture, per-call
 * {@link dev.interlayer.nn.moe.RouterStats}, and the per-layer dense-vs-MoE rules of released families
 * complete the package. Routers that couple the tokens of a call (expert choice, BASE balanced assignment,
 * capacity dropping) report {@code causal() = false} and are refused on continuation calls.
 */
package dev.interlayer.nn.moe;
