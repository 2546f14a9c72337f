/**
 * Core tensor types: {@link dev.interlayer.tensor.DType}, {@link dev.interlayer.tensor.Shape},
 * {@link dev.interlayer.tensor.Tensor} over {@code MemorySegment}, exceptions, and the compute pool.
 */
package dev.interlayer.tensor;
