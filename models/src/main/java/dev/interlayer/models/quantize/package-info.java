/**
 * Model-facing glue for post-training quantization: the sequential calibrated quantization of a GGUF decoder
 * ({@link dev.interlayer.models.quantize.SequentialQuantizer}, {@link dev.interlayer.models.quantize.MixedQuantizer}),
 * the lossless packing of the quantizers' output into GGUF blocks ({@link dev.interlayer.models.quantize.GgmlBlocks},
 * {@link dev.interlayer.models.quantize.QuantizedGguf}), and the quality harness that compares a model with a
 * reference (perplexity, KL divergence of next-token distributions, embedding cosine and retrieval overlap).
 * The quantizers and the calibration statistics themselves live in the {@code quant} module.
 */
package dev.interlayer.models.quantize;
