package dev.interlayer.quant;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernel of {@link DoubleGemm}; loaded only when the incubator module is present. Columns in panels
 * of two vectors, rows in fours (a one-row kernel for the last m mod 4), {@code p} in blocks of {@value #KC} so
 * a B panel stays in L1 while every row block passes over it; the last n mod 2L columns run the scalar loop.
 */
final class DoubleGemmSimd {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int KC = 256;

    private DoubleGemmSimd() {
    }

    static void multiplyAdd(int m, int n, int k, double alpha, double[] a, int ao, int ars, int acs,
                            double[] b, int bo, int ldb, double[] c, int co, int ldc) {
        int n2 = n - n % (2 * L), m4 = m - m % 4;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = Math.min(KC, k - p0), ap = ao + p0 * acs, bp = bo + p0 * ldb;
            for (int j = 0; j < n2; j += 2 * L) {
                for (int i = 0; i < m4; i += 4) {
                    tile4(kc, alpha, a, ap + i * ars, ars, acs, b, bp + j, ldb, c, co + i * ldc + j, ldc);
                }
                for (int i = m4; i < m; i++) {
                    tile1(kc, alpha, a, ap + i * ars, acs, b, bp + j, ldb, c, co + i * ldc + j);
                }
            }
        }
        if (n2 < n) {
            DoubleGemm.scalar(0, m, n2, n, k, alpha, a, ao, ars, acs, b, bo, ldb, c, co, ldc);
        }
    }

    private static void tile4(int k, double alpha, double[] a, int ao, int ars, int acs, double[] b, int bo, int ldb,
                              double[] c, int co, int ldc) {
        DoubleVector c00 = DoubleVector.zero(S), c01 = c00, c10 = c00, c11 = c00;
        DoubleVector c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        int a0 = ao, a1 = ao + ars, a2 = ao + 2 * ars, a3 = ao + 3 * ars;
        for (int p = 0; p < k; p++) {
            int bi = bo + p * ldb, q = p * acs;
            DoubleVector b0 = DoubleVector.fromArray(S, b, bi), b1 = DoubleVector.fromArray(S, b, bi + L);
            DoubleVector x = DoubleVector.broadcast(S, a[a0 + q]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = DoubleVector.broadcast(S, a[a1 + q]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = DoubleVector.broadcast(S, a[a2 + q]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = DoubleVector.broadcast(S, a[a3 + q]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
        }
        store(c00, c01, alpha, c, co);
        store(c10, c11, alpha, c, co + ldc);
        store(c20, c21, alpha, c, co + 2 * ldc);
        store(c30, c31, alpha, c, co + 3 * ldc);
    }

    private static void tile1(int k, double alpha, double[] a, int ao, int acs, double[] b, int bo, int ldb,
                              double[] c, int co) {
        DoubleVector c0 = DoubleVector.zero(S), c1 = c0;
        for (int p = 0; p < k; p++) {
            int bi = bo + p * ldb;
            DoubleVector x = DoubleVector.broadcast(S, a[ao + p * acs]);
            c0 = x.fma(DoubleVector.fromArray(S, b, bi), c0);
            c1 = x.fma(DoubleVector.fromArray(S, b, bi + L), c1);
        }
        store(c0, c1, alpha, c, co);
    }

    private static void store(DoubleVector v0, DoubleVector v1, double alpha, double[] c, int co) {
        DoubleVector.fromArray(S, c, co).add(v0.mul(alpha)).intoArray(c, co);
        DoubleVector.fromArray(S, c, co + L).add(v1.mul(alpha)).intoArray(c, co + L);
    }
}
