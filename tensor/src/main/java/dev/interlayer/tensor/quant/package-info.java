/**
 * GGML block formats read in place from mapped files: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K,
 * Q5_K, Q6_K, IQ4_NL and IQ4_XS ({@link dev.interlayer.tensor.quant.BlockFormat}, bit-identical to
 * ggml's dequantizers), ggml's reference quantizers for writing them
 * ({@link dev.interlayer.tensor.quant.Quantizer}), and the products and embedding lookups that
 * {@code Ops.matmulT} / {@code Ops.embedding} route quantized weights to
 * ({@link dev.interlayer.tensor.quant.QuantMatMul}, {@link dev.interlayer.tensor.quant.QuantEmbedding}).
 * Formats: G. Gerganov et al., ggml ({@code ggml-common.h}, {@code ggml-quants.c}).
 */
package dev.interlayer.tensor.quant;
