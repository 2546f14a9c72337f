package dev.interlayer.tensor.simd;

/**
 * {@link GemmWeightStream}'s micro-kernel with the next weight-row group's widening folded into its k loop:
 * the same tile[r*NR + t] = Σ_p wb[r*kc + p]·xp[xi + p*NR + t] (12 weight rows × NR tokens, summed in p order,
 * so bit for bit the plain kernel's result), and per k step one vector of the next group's weight rows copied
 * (widened to F32) into {@code next}.
 *
 * <p>Why: widening a group of 12 rows apart, between panels, took about as long as one 32-token panel of FMAs
 * when the weights came from DRAM, and a mixture-of-experts layer gives each expert about 32 rows (one panel),
 * so every group paid the whole copy. Issued between the FMAs the copy's loads overlap with them. Measured in
 * one JVM, old and new alternating (1 thread, thread CPU time, 64 different 1024×2048 weights, m = 32, load
 * average 8–9): F32 68 → 96 GFLOP/s, BF16 79 → 91; with the weights in L1 (one row repeated) F32 98 → 99, BF16
 * 107 → 101; m = 256 over 8192×2048 and 2048×8192 F32 +2% and +6%, BF16 ±0.
 *
 * <p>The FMA block repeats {@code GemmWeightStream.micro}'s on purpose: one method serving both (the copy skipped
 * when there is no next group) ran 6–15% slower on every shape (same-JVM A/B), C2 compiling one loop for both.
 * (Both are now expanded from one template, {@code WeightBuffer.inc}: repeated in the bytecode, written once.)
 *
 * <p>{@link #micro} is generated at build time from
 * {@code tensor/src/main/codegen/templates/GemmWidenKernelUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code GemmWidenKernelUnrolled}.
 */
final class GemmWidenKernel extends GemmWidenKernelUnrolled {
    private GemmWidenKernel() {
    }
}
