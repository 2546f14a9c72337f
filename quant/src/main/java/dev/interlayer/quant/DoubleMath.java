package dev.interlayer.quant;

/** Small double-precision loops the solvers share, written so the JIT keeps them in registers. */
final class DoubleMath {
    private static final boolean SIMD = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"0".equals(System.getProperty("dev.interlayer.simd.bits"));

    private DoubleMath() {
    }

    /** {@code Σ_k a[ao + k]·b[bo + k]} for k < n (Vector API when available; summation order differs). */
    static double dot(double[] a, int ao, double[] b, int bo, int n) {
        return SIMD && n >= 16 ? DoubleSimd.dot(a, ao, b, bo, n) : scalarDot(a, ao, b, bo, n);
    }

    /** {@code Σ_k a[ao + k]·b[bo + k]} for k < n, with four partial sums. */
    static double scalarDot(double[] a, int ao, double[] b, int bo, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        for (; k + 3 < n; k += 4) {
            s0 += a[ao + k] * b[bo + k];
            s1 += a[ao + k + 1] * b[bo + k + 1];
            s2 += a[ao + k + 2] * b[bo + k + 2];
            s3 += a[ao + k + 3] * b[bo + k + 3];
        }
        for (; k < n; k++) {
            s0 += a[ao + k] * b[bo + k];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code y[yo + k] −= alpha·x[xo + k]} for k < n. */
    static void subScaled(double[] y, int yo, double alpha, double[] x, int xo, int n) {
        for (int k = 0; k < n; k++) {
            y[yo + k] -= alpha * x[xo + k];
        }
    }
}
