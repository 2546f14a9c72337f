/**
 * Vector API ({@code jdk.incubator.vector}) kernels behind {@link dev.interlayer.tensor.Kernels}.
 *
 * <p>Loaded reflectively by {@code KernelSelection} only when the incubator module is present, so
 * nothing outside this package touches vector types. {@link dev.interlayer.tensor.simd.SimdKernels}
 * walks last-axis rows (directly in a heap {@code float[]} when the row is contiguous F32, else through
 * a scratch row) and hands them to one {@code VecOps} implementation per vector width. The width
 * classes {@code Vec256} and {@code Vec128} are generated from {@code Vec512} (the Vector API needs
 * the species as a compile-time constant to intrinsify: an instance-field species measured ~45x
 * slower). They are written at build time into {@code target/generated-sources/vec-widths} by the
 * single-file program {@code tensor/src/main/codegen/VecWidths.java} (run by Maven in generate-sources), so
 * the tree holds one copy to edit. Likewise {@code GemmStrideKernels} (the weight-stream GEMM's 12-row micro-kernel
 * with the weight row stride a literal, one copy per common stride) is written into
 * {@code target/generated-sources/gemm-strides} by {@code tensor/src/main/codegen/GemmStrides.java}.
 *
 * <p>The written-out micro-kernels (GemmDirectKernel, GemmKPairTail, GemmDirectTail, GemmWeightStream,
 * GemmWidenKernel, GemmDotTail, GemmPacked, GemmFewRows, MatVecVector, MatVecTiles, and the quantized tiles of
 * {@code quant.vector}) keep their vectors as locals of one method, so their rows are written out; each such
 * method is expanded from a template in {@code tensor/src/main/codegen/templates} (one line per row) by
 * {@code tensor/src/main/codegen/Unroll.java} into {@code target/generated-sources/unrolled}, as the superclass
 * {@code XUnrolled} of the hand-written class X, which keeps the rest. The expansion compiles to the bytecode the
 * hand-unrolled methods had.
 */
package dev.interlayer.tensor.simd;
