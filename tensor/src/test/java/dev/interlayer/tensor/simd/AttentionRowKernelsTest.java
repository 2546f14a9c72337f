package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Kernels;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code dotRows} and {@code addWeightedRows} (the score and value passes of decode attention) at every
 * vector width against the scalar oracle, which accumulates in double. Odd row counts (the 4-row tiles'
 * remainder), odd widths (vector tails), strides above the width (rows inside a wider KV row), offsets,
 * zero rows and zero width. Tolerance: the standard dot-product bound (d + 2)·2⁻²⁴·Σ|q·k|·|scale| for a
 * score, (rows + 2)·2⁻²⁴·(|out₀| + Σ|p·v|) for a weighted sum (float accumulation in any order).
 */
class AttentionRowKernelsTest {
    private static final int[] ROWS = {0, 1, 2, 3, 4, 5, 7, 17, 64, 129};
    private static final int[] WIDTHS = {0, 1, 3, 15, 16, 17, 64, 65, 128, 130};
    private static final double U = 0x1p-24;

    @ParameterizedTest(name = "bits={0}")
    @ValueSource(ints = {128, 256, 512})
    void dotRowsMatchesOracle(int bits) {
        sweep(31, bits, (simd, ref, c) -> {
            int rows = c.rows(), d = c.d(), stride = c.stride(), qOff = c.aOff(), kOff = c.bOff(), oOff = c.oOff();
            float[] q = gaussian(c.rng(), qOff + d), k = gaussian(c.rng(), kOff + rows * stride + 2);
            float scale = 0.125f;
            float[] want = new float[oOff + rows + 1], got = gaussian(c.rng(), oOff + rows + 1);
            float before = got[0];
            ref.dotRows(q, qOff, k, kOff, stride, rows, d, scale, want, oOff);
            simd.dotRows(q, qOff, k, kOff, stride, rows, d, scale, got, oOff);
            for (int j = 0; j < rows; j++) {
                double abs = 0;
                for (int i = 0; i < d; i++) {
                    abs += Math.abs(q[qOff + i] * k[kOff + j * stride + i]);
                }
                double bound = (d + 2) * U * abs * scale + Float.MIN_VALUE;
                assertTrue(Math.abs(want[oOff + j] - got[oOff + j]) <= bound,
                        c.where() + " j=" + j + ": " + want[oOff + j] + " vs " + got[oOff + j]);
            }
            if (oOff > 0) {
                assertEquals(before, got[0], "dotRows wrote before its range");
            }
        });
    }

    @ParameterizedTest(name = "bits={0}")
    @ValueSource(ints = {128, 256, 512})
    void addWeightedRowsMatchesOracle(int bits) {
        sweep(57, bits, (simd, ref, c) -> {
            int rows = c.rows(), d = c.d(), stride = c.stride(), pOff = c.aOff(), vOff = c.bOff(), oOff = c.oOff();
            float[] out0 = gaussian(c.rng(), oOff + d + 1);
            float[] p = gaussian(c.rng(), pOff + rows), v = gaussian(c.rng(), vOff + rows * stride + 2);
            float[] want = out0.clone(), got = out0.clone();
            ref.addWeightedRows(p, pOff, v, vOff, stride, rows, d, want, oOff);
            simd.addWeightedRows(p, pOff, v, vOff, stride, rows, d, got, oOff);
            for (int i = 0; i < d; i++) {
                double abs = Math.abs(out0[oOff + i]);
                for (int j = 0; j < rows; j++) {
                    abs += Math.abs(p[pOff + j] * v[vOff + j * stride + i]);
                }
                double bound = (rows + 2) * U * abs + Float.MIN_VALUE;
                assertTrue(Math.abs(want[oOff + i] - got[oOff + i]) <= bound,
                        c.where() + " i=" + i + ": " + want[oOff + i] + " vs " + got[oOff + i]);
            }
            for (int i = 0; i < oOff; i++) {
                assertEquals(out0[i], got[i], "addWeightedRows wrote before its range");
            }
            assertEquals(out0[oOff + d], got[oOff + d], "addWeightedRows wrote after its range");
        });
    }

    /**
     * One case of {@link #sweep}: {@code rows} rows of width {@code d} at row stride {@code stride} (d to d + 3), the
     * element offsets (0 to 2) of the first operand, the rows and the output, the case's random stream for the data,
     * and a label for messages.
     */
    private record RowsCase(int rows, int d, int stride, int aOff, int bOff, int oOff, SplittableRandom rng,
                            String where) {
    }

    /** A check of the kernels at one vector width against the scalar oracle on one case. */
    @FunctionalInterface
    private interface RowsCheck {
        void check(Kernels simd, Kernels ref, RowsCase c);
    }

    // every ROWS x WIDTHS case, each with its own stream seeded from (salt, rows, d, bits), through the SIMD kernels
    // at `bits` and the scalar oracle
    private static void sweep(long salt, int bits, RowsCheck body) {
        Kernels simd = new SimdKernels(bits), ref = Kernels.scalar();
        for (int rows : ROWS) {
            for (int d : WIDTHS) {
                long seed = salt * rows + d + 1000L * bits;
                SplittableRandom rng = new SplittableRandom(seed);
                int stride = d + rng.nextInt(4), aOff = rng.nextInt(3), bOff = rng.nextInt(3), oOff = rng.nextInt(3);
                body.check(simd, ref, new RowsCase(rows, d, stride, aOff, bOff, oOff, rng,
                        "bits=" + bits + " rows=" + rows + " d=" + d + " seed=" + seed));
            }
        }
    }

    @ParameterizedTest(name = "bits={0}")
    @ValueSource(ints = {128, 512})
    void rangesOutsideTheArraysAreRejectedWithTheOpName(int bits) {
        Kernels simd = new SimdKernels(bits);
        float[] q = new float[8], k = new float[8 * 4], out = new float[4];
        var e = assertThrows(IndexOutOfBoundsException.class, () -> simd.dotRows(q, 0, k, 1, 8, 4, 8, 1f, out, 0));
        assertTrue(e.getMessage().contains("dotRows") && e.getMessage().contains("stride 8"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> simd.dotRows(q, 0, k, 0, 4, 4, 8, 1f, out, 0)); // overlap
        assertThrows(IndexOutOfBoundsException.class, () -> simd.dotRows(q, 1, k, 0, 8, 4, 8, 1f, out, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> simd.dotRows(q, 0, k, 0, 8, 4, 8, 1f, out, 1));
        var f = assertThrows(IndexOutOfBoundsException.class,
                () -> simd.addWeightedRows(out, 0, k, 0, 8, 5, 8, q, 0));
        assertTrue(f.getMessage().contains("addWeightedRows"), f.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> simd.addWeightedRows(out, 0, k, 0, 8, 4, 8, q, 1));
    }

    private static float[] gaussian(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        return a;
    }
}
