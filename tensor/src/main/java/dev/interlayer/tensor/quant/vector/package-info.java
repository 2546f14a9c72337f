/**
 * Vector API kernels for quantized weights, loaded reflectively so that the tensor API never needs
 * {@code jdk.incubator.vector}; see {@link dev.interlayer.tensor.quant.vector.QuantVectorRows}.
 */
package dev.interlayer.tensor.quant.vector;
