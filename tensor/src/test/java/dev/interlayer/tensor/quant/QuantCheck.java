package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * The kernel-vs-oracle check of {@link QuantMatMulTest} (tolerance derived there), and a {@link #main}
 * that sweeps every format at the JVM's vector width for {@link QuantWidthsTest} (with the bitwise m-row
 * check of {@link QuantRowsIdentityTest} for the formats with tile kernels), which starts one JVM
 * per forced width ({@code -Ddev.interlayer.simd.bits}; the species is a JVM-wide constant).
 */
final class QuantCheck {
    private QuantCheck() {
    }

    static void check(BlockFormat f, MemorySegment w, int n, int k, int m, Random r, QuantRows kernel) {
        checkOne(f, w, n, k, m, r, kernel);
        if (m <= 2 && w.isNative()) {
            checkOne(f, QuantTestData.onHeap(w), n, k, m, r, kernel);      // heap weights take the buffer path
        }
    }

    private static void checkOne(BlockFormat f, MemorySegment w, int n, int k, int m, Random r, QuantRows kernel) {
        int lda = k + 3, aOff = 5, ldc = n + 2, cOff = 3;
        float[] a = QuantTestData.gaussian(aOff + m * lda, r);
        float[] c = new float[cOff + m * ldc];
        java.util.Arrays.fill(c, Float.NaN);
        QuantMatMul.matmulT(kernel, f, m, n, k, a, aOff, lda, w, 0, c, cOff, ldc);
        float[] row = new float[k];
        long rowBytes = f.rowBytes(k);
        for (int j = 0; j < n; j++) {
            f.dequantizeRow(w, j * rowBytes, k, row, 0);
            double amax = 0;
            for (float v : row) {
                amax = Math.max(amax, Math.abs(v));
            }
            for (int i = 0; i < m; i++) {
                double want = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double xv = a[aOff + i * lda + p];
                    want += row[p] * xv;
                    mag += (Math.abs(row[p]) + amax) * Math.abs(xv);
                }
                double tol = 8 * (k + 8) * 0x1p-24 * mag;
                float got = c[cOff + i * ldc + j];
                assertEquals(want, got, tol, f + " " + kernel.name() + " m=" + m + " n=" + n + " k=" + k
                        + " row " + j + " act " + i);
            }
        }
        for (int i = 0; i < m; i++) {
            for (int j = n; j < ldc && cOff + i * ldc + j < c.length; j++) {
                assertTrue(Float.isNaN(c[cOff + i * ldc + j]), "wrote outside the output columns");
            }
        }
        for (int i = 0; i < cOff; i++) {
            assertTrue(Float.isNaN(c[i]), "wrote before the output offset");
        }
    }

    /** Every format, odd n (7 and 301 rows), m from 1 to 17, on 2 threads; prints "OK kernel=...". */
    public static void main(String[] args) {
        ComputePool.setThreads(2);
        Random r = new Random(11);
        for (DType t : DType.values()) {
            if (!BlockFormats.supports(t)) {
                continue;
            }
            BlockFormat f = BlockFormats.of(t);
            for (int n : new int[] {7, 301}) {                      // 301: split over the 2 threads
                int k = (n == 7 ? 3 : 1) * f.blockSize();
                MemorySegment w = QuantTestData.randomRows(t, n, k, r);
                for (int m : n == 7 ? new int[] {1, 2, 5, 17} : new int[] {1, 5}) {
                    check(f, w, n, k, m, r, QuantMatMul.ACTIVE);
                }
                if (t == DType.Q8_0 || t == DType.Q4_0 || t == DType.Q4_K || t == DType.Q6_K) {
                    QuantRowsIdentityTest.check(t, n, k, r);      // m-row outputs == one-row outputs, bit for bit
                }
            }
        }
        System.out.println("OK kernel=" + QuantMatMul.ACTIVE.name());
    }
}
