package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The float64 kernels behind the GPTQ speed-up against plain loops on seeded random data, at sizes that cross
 * every tile edge (4-row tiles, two-vector panels, 256-deep k blocks, 64-row Cholesky blocks, 16-row Hessian
 * bands, 256-token Hessian tiles). Tolerances: the kernels only reorder float64 sums, so each element agrees to
 * 1e-12 of the sum of its terms' magnitudes (n·ε with n ≤ 600 is about 1e-13); the Cholesky factors, which
 * amplify rounding by the condition number (≤ about 1e3 here), agree to 1e-9 relative (Frobenius).
 */
class DoubleKernelsTest {
    @Test
    void gemmMatchesLoops() {
        for (int t = 0; t < 40; t++) {
            var r = new SplittableRandom(70 + t);
            int m = 1 + r.nextInt(37), n = 1 + r.nextInt(70), k = 1 + r.nextInt(t < 5 ? 600 : 90);
            boolean transposed = r.nextBoolean();
            double alpha = new double[] {1, -1, 0.5}[r.nextInt(3)];
            int ao = r.nextInt(5), bo = r.nextInt(5), co = r.nextInt(5), ldb = n + r.nextInt(4), ldc = n + r.nextInt(4);
            int lda = (transposed ? m : k) + r.nextInt(4);
            int ars = transposed ? 1 : lda, acs = transposed ? lda : 1;
            double[] a = gaussian(r, ao + (transposed ? k : m) * lda), b = gaussian(r, bo + k * ldb);
            double[] c = gaussian(r, co + m * ldc), want = c.clone();
            DoubleGemm.multiplyAdd(m, n, k, alpha, a, ao, ars, acs, b, bo, ldb, c, co, ldc);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0, mag = 0;
                    for (int p = 0; p < k; p++) {
                        double x = a[ao + i * ars + p * acs] * b[bo + p * ldb + j];
                        s += x;
                        mag += Math.abs(x);
                    }
                    int at = co + i * ldc + j;
                    assertEquals(want[at] + alpha * s, c[at], 1e-12 * (mag + Math.abs(want[at])),
                            "case " + t + " [" + m + "x" + k + "]·[" + k + "x" + n + "] at " + i + "," + j);
                }
            }
            for (int i = 0; i < c.length; i++) {       // padding between rows and before the offset untouched
                if (i < co || (i - co) % ldc >= n || (i - co) / ldc >= m) {
                    assertEquals(want[i], c[i], 0.0, "case " + t + " wrote outside C at " + i);
                }
            }
        }
    }

    @Test
    void blockedCholeskyMatchesUnblocked() {
        for (int n : new int[] {1, 2, 5, 63, 64, 65, 130, 200}) {
            var r = new SplittableRandom(n);
            double[] h = spd(r, n);
            double[] want = Dense.upperCholeskyOfInverseUnblocked(h, n);
            double[] got = Dense.upperCholeskyOfInverse(h, n);
            double diff = 0, norm = 0;
            for (int i = 0; i < n * n; i++) {
                diff += (got[i] - want[i]) * (got[i] - want[i]);
                norm += want[i] * want[i];
            }
            assertTrue(Math.sqrt(diff) <= 1e-9 * Math.sqrt(norm), "n=" + n + ": |ΔU| " + Math.sqrt(diff));
            for (int i = 0; i < n; i++) {               // upper triangular, and Uᵀ·U·H = I
                for (int j = 0; j < i; j++) {
                    assertEquals(0.0, got[i * n + j], 0.0, "n=" + n + " U below the diagonal at " + i + "," + j);
                }
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < n; p++) {
                        double inv = 0;
                        for (int q = 0; q <= Math.min(i, p); q++) {
                            inv += got[q * n + i] * got[q * n + p];
                        }
                        s += inv * h[p * n + j];
                    }
                    assertEquals(i == j ? 1.0 : 0.0, s, 1e-8, "n=" + n + " (UᵀU·H)[" + i + "," + j + "]");
                }
            }
        }
        double[] indefinite = {1, 2, 2, 1};
        assertNull(Dense.upperCholeskyOfInverse(indefinite, 2), "indefinite H");
    }

    @Test
    void hessianBandsMatchLoops() {
        var r = new SplittableRandom(5);
        int d = 203, n = 700;
        float[] x = Rand.activations(r, n, d);
        boolean[] keep = new boolean[n];
        double[] want = new double[d * d];
        long kept = 0;
        for (int t = 0; t < n; t++) {
            keep[t] = r.nextInt(10) != 0;
            if (keep[t]) {
                kept++;
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < d; j++) {
                        want[i * d + j] += (double) x[t * d + i] * x[t * d + j];
                    }
                }
            }
        }
        HessianAccumulator acc = new HessianAccumulator(d);
        for (int t = 0; t < n; ) {                       // pieces of random length cross the 256-token tiles
            int len = Math.min(n - t, 1 + r.nextInt(90));
            float[] piece = java.util.Arrays.copyOfRange(x, t * d, (t + len) * d);
            acc.accept(piece, len, java.util.Arrays.copyOfRange(keep, t, t + len));
            t += len;
        }
        assertEquals(kept, acc.count());
        double[] got = acc.sumOfOuterProducts();
        for (int i = 0; i < d * d; i++) {
            double mag = Math.sqrt(want[i / d * d + i / d] * want[i % d * d + i % d]);   // Cauchy–Schwarz bound
            assertEquals(want[i], got[i], 1e-12 * mag, "Σxxᵀ[" + i / d + "," + i % d + "]");
        }
    }

    @Test
    void quadraticFormsMatchLoops() {
        var r = new SplittableRandom(9);
        int rows = 37, n = 150;
        double[] h = spd(r, n), v = gaussian(r, rows * n);
        double want = 0, mag = 0;
        for (int q = 0; q < rows; q++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double x = v[q * n + i] * h[i * n + j] * v[q * n + j];
                    want += x;
                    mag += Math.abs(x);
                }
            }
        }
        assertEquals(want, Dense.sumOfQuadraticForms(v, rows, n, h), 1e-12 * mag);
    }

    /**
     * {@link MixedPrecision#hessianError} forms ΔW 16 rows at a time (no double copy of the weight); it must equal
     * the whole-matrix form {@code tr(ΔW·H·ΔWᵀ)} of plain loops, for row counts on both sides of the 16-row blocks.
     * Tolerance as above: only the order of float64 sums differs (1e-12 of the sum of the terms' magnitudes).
     */
    @Test
    void hessianErrorInRowBlocksMatchesTheWholeMatrixForm() {
        var r = new SplittableRandom(11);
        int cols = 64;
        double[] h = spd(r, cols);
        QuantScheme s = QuantScheme.of(GridKind.ASYM_MINMAX, 4, 32);
        for (int rows : new int[] {1, 15, 16, 17, 48, 83}) {
            float[] w = Rand.weights(r, rows, cols);
            QuantizedLinear q = Rtn.quantize(w, rows, cols, s);
            double want = 0, mag = 0;
            for (int k = 0; k < rows; k++) {
                for (int i = 0; i < cols; i++) {
                    for (int j = 0; j < cols; j++) {
                        double x = (w[k * cols + i] - q.value(k, i)) * h[i * cols + j] * (w[k * cols + j] - q.value(k, j));
                        want += x;
                        mag += Math.abs(x);
                    }
                }
            }
            assertTrue(want > 0, "rows " + rows);
            assertEquals(want, MixedPrecision.hessianError(w, q, h), 1e-12 * mag, "rows " + rows);
        }
    }

    private static double[] gaussian(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextGaussian();
        }
        return a;
    }

    // XᵀX/N + 0.1·I for correlated X [2n, n]: symmetric positive definite, condition number about 1e2..1e3
    private static double[] spd(SplittableRandom r, int n) {
        double[] h = Rand.hessian(Rand.activations(r, 2 * n + 4, n), 2 * n + 4, n);
        for (int i = 0; i < n; i++) {
            h[i * n + i] += 0.1;
        }
        return h;
    }
}
