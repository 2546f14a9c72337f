/**
 * Scalar reference kernels ({@link dev.interlayer.tensor.kernel.ScalarKernels}, the oracle every SIMD
 * kernel is tested against: obviously correct, double accumulation) and the argument checks and
 * broadcasting rules shared by all implementations.
 */
package dev.interlayer.tensor.kernel;
