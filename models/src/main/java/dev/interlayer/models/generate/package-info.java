/**
 * Text generation over any causal language model ({@code CausalLM}, its per-sequence sessions): the
 * {@code Generator}, seeded {@code Sampler}s and the timed {@code GenerationResult}.
 */
package dev.interlayer.models.generate;
