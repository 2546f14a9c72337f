package dev.interlayer.quant;

import dev.interlayer.tensor.ComputePool;

/**
 * GPTQ's factor {@code U} (upper triangular, {@code Uᵀ·U = H⁻¹}) in blocks of {@value #NB} rows, so that nearly
 * all of the {@code n³/3} multiply-adds are {@link DoubleGemm} products split over the compute pool. With
 * {@code J} the order reversal: factor {@code J·H·J = Rᵀ·R} (R upper, a block-row left-looking Cholesky), invert
 * {@code V = R⁻¹} (block back substitution), and {@code U = J·Vᵀ·J}, because {@code H⁻¹ = J·R⁻¹·R⁻ᵀ·J =
 * (J·Vᵀ·J)ᵀ·(J·Vᵀ·J)}. All in float64; the result equals {@link Dense#upperCholeskyOfInverse}'s up to rounding.
 */
final class BlockedCholesky {
    private static final int NB = 64;
    private static final int PANEL = 64;            // columns per parallel task of a block's product

    private BlockedCholesky() {
    }

    /** {@code U} with {@code Uᵀ·U = H⁻¹} for a symmetric {@code h [n, n]}, or null if H is not numerically positive definite. */
    static double[] upperCholeskyOfInverse(double[] h, int n) {
        double[] r = new double[n * n];
        for (int i = 0; i < n; i++) {                   // upper triangle of J·H·J
            for (int j = i; j < n; j++) {
                r[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
            }
        }
        if (!factorUpper(r, n)) {
            return null;
        }
        double[] v = invertUpper(r, n);
        double[] u = r;                                  // reuse: U[i][j] = V[n−1−j][n−1−i]
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                u[i * n + j] = j < i ? 0 : v[(n - 1 - j) * n + (n - 1 - i)];
            }
        }
        return u;
    }

    /**
     * In place: the upper triangle of {@code a} (a symmetric matrix) becomes R with {@code A = Rᵀ·R}; the strict
     * lower triangle is left as it was. Block row I: {@code A[I, I:] −= R[:I, I]ᵀ·R[:I, I:]}, then the diagonal
     * block is factored and the rest of the block row solved, one row at a time. False on a pivot {@code ≤ 0}.
     */
    static boolean factorUpper(double[] a, int n) {
        for (int i0 = 0; i0 < n; i0 += NB) {
            int i1 = Math.min(n, i0 + NB), nb = i1 - i0, b0 = i0;
            if (i0 > 0) {
                parallelColumns(n - i0, (c0, c1) -> DoubleGemm.multiplyAdd(nb, c1 - c0, b0, -1.0,
                        a, b0, 1, n, a, b0 + c0, n, a, b0 * n + b0 + c0, n));
            }
            for (int i = i0; i < i1; i++) {
                double d = a[i * n + i];
                if (!(d > 0)) {
                    return false;
                }
                double p = Math.sqrt(d), inv = 1.0 / p;
                a[i * n + i] = p;
                for (int j = i + 1; j < n; j++) {
                    a[i * n + j] *= inv;
                }
                for (int k = i + 1; k < i1; k++) {       // the rest of the block: A[k, k:] −= R[i, k]·R[i, k:]
                    DoubleMath.subScaled(a, k * n + k, a[i * n + k], a, i * n + k, n - k);
                }
            }
        }
        return true;
    }

    /**
     * {@code V = R⁻¹} for an upper-triangular R (its strict lower triangle is ignored), as a new matrix with zeros
     * below the diagonal. Block rows from the last: {@code V[I, I:] = R[I, I]⁻¹·(E[I, I:] − R[I, I₁:]·V[I₁:, I:])}.
     */
    static double[] invertUpper(double[] r, int n) {
        double[] v = new double[n * n];
        int last = (n - 1) / NB * NB;
        for (int i0 = last; i0 >= 0; i0 -= NB) {
            int i1 = Math.min(n, i0 + NB), nb = i1 - i0, first = i0;
            for (int i = i0; i < i1; i++) {
                v[i * n + i] = 1;
            }
            if (i1 < n) {                                // V[I, i1:] −= R[I, i1:]·V[i1:, i1:]; V[i1 + p][i1 + c] = 0 for p > c
                parallelColumns(n - i1, (c0, c1) -> DoubleGemm.multiplyAdd(nb, c1 - c0, c1, -1.0,
                        r, first * n + i1, n, 1, v, i1 * n + i1 + c0, n, v, first * n + i1 + c0, n));
            }
            for (int i = i1 - 1; i >= i0; i--) {         // back substitution inside the block
                for (int p = i + 1; p < i1; p++) {
                    DoubleMath.subScaled(v, i * n + i, r[i * n + p], v, p * n + i, n - i);
                }
                double inv = 1.0 / r[i * n + i];
                for (int j = i; j < n; j++) {
                    v[i * n + j] *= inv;
                }
            }
        }
        return v;
    }

    private interface Range {
        void run(int c0, int c1);
    }

    // columns [0, n) in panels of PANEL on the compute pool
    private static void parallelColumns(int n, Range body) {
        int tasks = (n + PANEL - 1) / PANEL;
        if (tasks == 1) {
            body.run(0, n);
            return;
        }
        ComputePool.parallelFor(tasks, t -> body.run(t * PANEL, Math.min(n, (t + 1) * PANEL)));
    }
}
