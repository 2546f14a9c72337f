package dev.interlayer.quant;

/**
 * The float64 matrix product the solvers' heavy steps reduce to: {@code C += α·A·B} on row-major slices, with
 * {@code A} read through arbitrary strides (so {@code Aᵀ} needs no copy). A register tile of 4 rows of C by two
 * vectors of columns (Vector API when the incubator module is present, else a scalar loop) keeps each loaded
 * B vector in use for four FMAs, where a dot-product formulation loads two values per multiply. Every product
 * and sum is float64; each element sums {@code p} in order within blocks of 256 and adds each block's sum to C,
 * so results differ from other orders by rounding only. Single-threaded: callers split the work.
 */
final class DoubleGemm {
    static final boolean SIMD = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"0".equals(System.getProperty("dev.interlayer.simd.bits"));

    private DoubleGemm() {
    }

    /**
     * {@code C[i][j] += α·Σ_p A[i][p]·B[p][j]} for {@code i < m, j < n, p < k}, where
     * {@code A[i][p] = a[ao + i·ars + p·acs]}, {@code B[p][j] = b[bo + p·ldb + j]},
     * {@code C[i][j] = c[co + i·ldc + j]}.
     */
    static void multiplyAdd(int m, int n, int k, double alpha, double[] a, int ao, int ars, int acs,
                            double[] b, int bo, int ldb, double[] c, int co, int ldc) {
        if (m <= 0 || n <= 0 || k <= 0) {
            return;
        }
        if (SIMD) {
            DoubleGemmSimd.multiplyAdd(m, n, k, alpha, a, ao, ars, acs, b, bo, ldb, c, co, ldc);
        } else {
            scalar(0, m, 0, n, k, alpha, a, ao, ars, acs, b, bo, ldb, c, co, ldc);
        }
    }

    /** The same product on the block {@code i ∈ [i0, i1), j ∈ [j0, j1)} of C, one element at a time. */
    static void scalar(int i0, int i1, int j0, int j1, int k, double alpha, double[] a, int ao, int ars, int acs,
                       double[] b, int bo, int ldb, double[] c, int co, int ldc) {
        for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a[ao + i * ars + p * acs] * b[bo + p * ldb + j];
                }
                c[co + i * ldc + j] += alpha * s;
            }
        }
    }
}
