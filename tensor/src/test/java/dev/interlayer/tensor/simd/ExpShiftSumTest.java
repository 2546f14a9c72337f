package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Kernels;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code expShiftSum} (the exponentials of a softmax row, used by attention) at every vector width
 * against the scalar oracle, which computes each exp(x - shift) in double. Tolerances: each output within
 * (4 + |x - shift|) ulps of the oracle's: the vector exp is accurate to about 1 ulp, and the kernel
 * rounds x - shift to float first (as PyTorch's softmax does), an absolute error of up to
 * |x - shift|·2⁻²⁴ in the exponent, i.e. that relative error in the result. The sum: within
 * n·2⁻²⁴·Σ|out| + 4 ulps (float accumulation in another order).
 */
class ExpShiftSumTest {
    private static final int[] SIZES = {0, 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63, 127, 129, 255, 1023, 2048};

    @ParameterizedTest(name = "bits={0}")
    @ValueSource(ints = {128, 256, 512})
    void matchesScalarOracleWithMaskedEntriesOffsetsAndAliasing(int bits) {
        Kernels simd = new SimdKernels(bits), ref = Kernels.scalar();
        for (int n : SIZES) {
            long seed = 0xE5L * 31 + n * 7L + bits;
            SplittableRandom rng = new SplittableRandom(seed);
            int off = rng.nextInt(5);
            float[] x = new float[off + n + 3];
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < x.length; i++) {
                x[i] = rng.nextInt(10) == 0 ? Float.NEGATIVE_INFINITY : (float) (rng.nextGaussian() * 8);
                if (i >= off && i < off + n) {
                    max = Math.max(max, x[i]);
                }
            }
            float shift = max == Float.NEGATIVE_INFINITY ? 0f : max;
            float[] want = new float[x.length], got = x.clone();
            float wantSum = ref.expShiftSum(x, off, shift, want, off, n);
            float gotSum = simd.expShiftSum(got, off, shift, got, off, n);      // in place, as attention does
            double abs = 0;
            for (int i = off; i < off + n; i++) {
                float tol = (4 + Math.abs(x[i] - shift)) * Math.ulp(want[i]);
                assertTrue(Math.abs(want[i] - got[i]) <= tol, "bits=" + bits + " n=" + n + " seed=" + seed
                        + " i=" + i + " x=" + x[i] + ": expected " + want[i] + " got " + got[i]);
                abs += Math.abs(want[i]);
            }
            assertEquals(wantSum, gotSum, n * 0x1p-24 * abs + 4 * Math.ulp(wantSum),
                    "bits=" + bits + " n=" + n + " seed=" + seed + " sum");
            for (int i = 0; i < off; i++) {
                assertEquals(x[i], got[i], "element before the range was written (n=" + n + ")");
            }
        }
    }

    @ParameterizedTest(name = "bits={0}")
    @ValueSource(ints = {128, 512})
    void rangeOutsideTheArrayIsRejected(int bits) {
        Kernels simd = new SimdKernels(bits);
        float[] x = new float[8];
        assertThrows(IndexOutOfBoundsException.class, () -> simd.expShiftSum(x, 4, 0f, x, 4, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> Kernels.scalar().expShiftSum(x, -1, 0f, x, 0, 2));
    }
}
