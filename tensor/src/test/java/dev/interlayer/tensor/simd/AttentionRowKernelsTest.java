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
        Kernels simd = new SimdKernels(bits), ref = Kernels.scalar();
        sweep(31, bits, (rows, d, stride, rng, where) -> {
            int qOff = rng.nextInt(3), kOff = rng.nextInt(3), oOff = rng.nextInt(3);
            float[] q = gaussian(rng, qOff + d), k = gaussian(rng, kOff + rows * stride + 2);
            float scale = 0.125f;
            float[] want = new float[oOff + rows + 1], got = gaussian(rng, oOff + rows + 1);
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
                        where + " j=" + j + ": " + want[oOff + j] + " vs " + got[oOff + j]);
            }
            if (oOff > 0) {
                assertEquals(before, got[0], "dotRows wrote before its range");
            }
        });
    }

    @ParameterizedTest(name = "bits={0}")
    @ValueSource(ints = {128, 256, 512})
    void addWeightedRowsMatchesOracle(int bits) {
        Kernels simd = new SimdKernels(bits), ref = Kernels.scalar();
        sweep(57, bits, (rows, d, stride, rng, where) -> {
            int pOff = rng.nextInt(3), vOff = rng.nextInt(3), oOff = rng.nextInt(3);
            float[] p = gaussian(rng, pOff + rows), v = gaussian(rng, vOff + rows * stride + 2);
            float[] out0 = gaussian(rng, oOff + d + 1);
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
                        where + " i=" + i + ": " + want[oOff + i] + " vs " + got[oOff + i]);
            }
            for (int i = 0; i < oOff; i++) {
                assertEquals(out0[i], got[i], "addWeightedRows wrote before its range");
            }
            assertEquals(out0[oOff + d], got[oOff + d], "addWeightedRows wrote after its range");
        });
    }

    /** One (rows, width) case of {@link #sweep}, with its row stride, random stream and a label for messages. */
    @FunctionalInterface
    private interface RowsCase {
        void check(int rows, int d, int stride, SplittableRandom rng, String where);
    }

    // every ROWS x WIDTHS case, each with its own stream seeded from (salt, rows, d, bits) and a stride of d to d + 3
    private static void sweep(long salt, int bits, RowsCase body) {
        for (int rows : ROWS) {
            for (int d : WIDTHS) {
                long seed = salt * rows + d + 1000L * bits;
                SplittableRandom rng = new SplittableRandom(seed);
                int stride = d + rng.nextInt(4);
                body.check(rows, d, stride, rng, "bits=" + bits + " rows=" + rows + " d=" + d + " seed=" + seed);
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
