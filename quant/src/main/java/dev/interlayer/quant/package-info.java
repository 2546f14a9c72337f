/**
 * Post-training quantizers that choose integer weights for linear layers: round-to-nearest ({@link
 * dev.interlayer.quant.Rtn}), GPTQ, AWQ, and the calibration statistics they need ({@link
 * dev.interlayer.quant.HessianAccumulator}, importance matrices). Every quantizer produces a {@link
 * dev.interlayer.quant.QuantizedLinear}: codes plus per-group scales and zero points, the point where GGML
 * block packing attaches.
 */
package dev.interlayer.quant;
