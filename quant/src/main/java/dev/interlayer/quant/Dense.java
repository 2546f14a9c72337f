package dev.interlayer.quant;

import dev.interlayer.tensor.ComputePool;

/**
 * Small dense linear algebra on row-major {@code double[n·n]} matrices: Cholesky factorisation, the inverse
 * of a lower-triangular matrix, and the upper Cholesky factor of an inverse that GPTQ needs.
 */
public final class Dense {
    private static final int QF_ROWS = 16;

    private Dense() {
    }

    /**
     * Factors a symmetric positive definite {@code a [n, n]} as {@code L·Lᵀ} and returns {@code L} (lower
     * triangular, zeros above the diagonal), or null if {@code a} is not numerically positive definite (a pivot
     * {@code ≤ 0} or NaN). Only the lower triangle of {@code a} is read; {@code a} is not modified.
     */
    public static double[] choleskyLower(double[] a, int n) {
        Shapes.checkSquare("Dense.choleskyLower", a.length, n);
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            int ri = i * n;
            for (int j = 0; j < i; j++) {
                double s = a[ri + j] - DoubleMath.dot(l, ri, l, j * n, j);
                l[ri + j] = s / l[j * n + j];
            }
            double d = a[ri + i] - DoubleMath.dot(l, ri, l, ri, i);
            if (!(d > 0)) {
                return null;
            }
            l[ri + i] = Math.sqrt(d);
        }
        return l;
    }

    /**
     * The inverse of a lower-triangular {@code l [n, n]} with a non-zero diagonal; lower triangular too. Column
     * {@code j} solves {@code L·x = e_j} by forward substitution; columns run in parallel on the compute pool.
     */
    public static double[] invertLower(double[] l, int n) {
        Shapes.checkSquare("Dense.invertLower", l.length, n);
        double[] inv = new double[n * n];
        int chunks = Math.min(n, 8 * ComputePool.threads());
        ComputePool.parallelFor(chunks, ch -> {
            double[] x = new double[n];
            for (int j = ch; j < n; j += chunks) {      // interleaved: later columns are shorter
                x[j] = 1.0 / l[j * n + j];
                for (int i = j + 1; i < n; i++) {
                    x[i] = -DoubleMath.dot(l, i * n + j, x, j, i - j) / l[i * n + i];
                }
                for (int i = j; i < n; i++) {
                    inv[i * n + j] = x[i];
                }
            }
        });
        return inv;
    }

    /**
     * The upper-triangular {@code U} with {@code Uᵀ·U = H⁻¹} for a symmetric positive definite {@code h [n, n]},
     * or null if {@code h} is not numerically positive definite. With {@code J} the order reversal and
     * {@code J·H·J = M·Mᵀ}, {@code U = J·M⁻¹·J}: one Cholesky and one triangular inverse, no explicit
     * {@code H⁻¹}; both run in blocks on matrix products ({@link BlockedCholesky}).
     */
    public static double[] upperCholeskyOfInverse(double[] h, int n) {
        Shapes.checkSquare("Dense.upperCholeskyOfInverse", h.length, n);
        return BlockedCholesky.upperCholeskyOfInverse(h, n);
    }

    /** {@link #upperCholeskyOfInverse} with the unblocked {@link #choleskyLower} and {@link #invertLower}. */
    static double[] upperCholeskyOfInverseUnblocked(double[] h, int n) {
        double[] rev = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                rev[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
            }
        }
        double[] m = choleskyLower(rev, n);
        if (m == null) {
            return null;
        }
        double[] mi = invertLower(m, n);
        double[] u = rev;                                 // reuse: U[i, j] = M⁻¹[n−1−i, n−1−j]
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                u[i * n + j] = mi[(n - 1 - i) * n + (n - 1 - j)];
            }
        }
        return u;
    }

    /**
     * Rows of a {@code [rows, n]} matrix produced on demand, in float64: lets a quadratic form run over a matrix
     * that is never materialised whole in double (a float32 weight, or a difference of two weights).
     */
    @FunctionalInterface
    public interface Rows {
        /** Writes rows {@code [r0, r0 + m)} row-major into {@code dst[0, m·n)}. */
        void fill(int r0, int m, double[] dst);
    }

    /**
     * {@code Σ_r v_r·H·v_rᵀ} over the rows of {@code v [rows, n]} for a symmetric {@code h [n, n]}: the layer error
     * {@code tr(V·H·Vᵀ)} of GPTQ's objective when V is a weight difference. Row blocks of {@code V·H} are products
     * on the compute pool, each dotted with its rows of V.
     */
    public static double sumOfQuadraticForms(double[] v, int rows, int n, double[] h) {
        Shapes.checkMatrix("Dense.sumOfQuadraticForms", v.length, rows, n);
        return sumOfQuadraticForms((r0, m, dst) -> System.arraycopy(v, r0 * n, dst, 0, m * n), rows, n, h);
    }

    /**
     * {@link #sumOfQuadraticForms(double[], int, int, double[])} with V given by {@code v}, 16 rows at a time:
     * besides H, the memory is two {@code [16, n]} buffers per task, whatever {@code rows} is.
     */
    public static double sumOfQuadraticForms(Rows v, int rows, int n, double[] h) {
        Shapes.checkSquare("Dense.sumOfQuadraticForms", h.length, n);
        int tasks = (rows + QF_ROWS - 1) / QF_ROWS;
        double[] part = new double[tasks];
        ComputePool.parallelFor(tasks, t -> {
            int r0 = t * QF_ROWS, m = Math.min(rows, r0 + QF_ROWS) - r0;
            double[] vb = new double[m * n], y = new double[m * n];
            v.fill(r0, m, vb);
            DoubleGemm.multiplyAdd(m, n, n, 1.0, vb, 0, n, 1, h, 0, n, y, 0, n);
            part[t] = DoubleMath.dot(y, 0, vb, 0, m * n);
        });
        double total = 0;
        for (double p : part) {
            total += p;
        }
        return total;
    }
}
