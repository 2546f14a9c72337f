package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.fail;

import dev.interlayer.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Test support for the GEMM kernel tests: seeded data and the oracle comparison. Any summation order of k float
 * products is within γ_k·Σ|x||w| of the exact sum (γ_k ≈ k·u, u = 2⁻²⁴), and the oracle's double sum narrowed to
 * float adds u·Σ|x||w|; allowed (k + 2)·u·Σ|x||w|.
 */
final class GemmOracle {
    private static final double U = 0x1p-24;

    private GemmOracle() {
    }

    /** Fails unless |got − (float) want| ≤ (k + 2)·u·scale (also on NaN); want = Σ x·w in double, scale = Σ |x·w|. */
    static void check(float got, double want, double scale, int k, String what) {
        double bound = (k + 2) * U * scale + Float.MIN_VALUE;
        if (!(Math.abs(got - (float) want) <= bound)) {
            fail(what + ": got " + got + ", oracle " + want + ", bound " + bound);
        }
    }

    /**
     * {@link #check}s every element of c [m, n] (row-major, leading dimension n) against Σ_p x[i, p]·w[j, p] in double,
     * for x [m, k] and w [n, k] row-major; {@code what} names the case in a failure.
     */
    static void checkProduct(float[] c, float[] x, float[] w, int m, int n, int k, String what) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double want = 0, scale = 0;
                for (int p = 0; p < k; p++) {
                    double prod = (double) x[i * k + p] * w[j * k + p];
                    want += prod;
                    scale += Math.abs(prod);
                }
                check(c[i * n + j], want, scale, k, what + ": C[" + i + ", " + j + "]");
            }
        }
    }

    /**
     * C = X·Wᵀ through {@code kernel} for X [m, k] contiguous and F32 weights W [n, k] in a native segment, rows ldw
     * apart from element 3 (ldw ≥ k: rows longer than k are a view), C pre-filled with NaN; every element
     * {@link #check}ed against the double oracle. Returns C.
     */
    static float[] stridedProduct(GemmKernel kernel, int m, int n, int k, int ldw, long seed, String what) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = gaussian(rng, m * k);
        int wOff = 3;
        float[] wv = gaussian(rng, wOff + n * ldw);
        MemorySegment w = nativeCopy(wv);
        float[] c = new float[m * n];
        Arrays.fill(c, Float.NaN);
        kernel.gemm(m, n, k, x, 0, k, w, DType.F32, wOff, ldw, 1, c, 0, n);
        float[] rows = new float[n * k];
        for (int j = 0; j < n; j++) {
            System.arraycopy(wv, wOff + j * ldw, rows, j * k, k);
        }
        checkProduct(c, x, rows, m, n, k, what + " m=" + m + " n=" + n + " k=" + k + " ldw=" + ldw);
        return c;
    }

    static float[] gaussian(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }

    /** The floats in a new 64-byte-aligned native segment, as a loaded model's weights are. */
    static MemorySegment nativeCopy(float[] v) {
        MemorySegment w = Arena.ofAuto().allocate((long) v.length * 4, 64);
        MemorySegment.copy(v, 0, w, ValueLayout.JAVA_FLOAT, 0, v.length);
        return w;
    }
}
