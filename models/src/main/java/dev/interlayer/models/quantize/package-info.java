/**
 * Model-facing glue for post-training quantization: the quality harness that compares a model with a
 * reference (perplexity, KL divergence of next-token distributions, embedding cosine and retrieval overlap).
 * The quantizers and the calibration driver themselves live in the {@code quant} module.
 */
package dev.interlayer.models.quantize;
