package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.BlockFormats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Q4_K decode tiles, called directly (whatever {@code dev.interlayer.q4_k.tile} says) and through
 * {@link TileDriver#decode}: {@link Q4KTiles#eight} (512-bit vectors) bit for bit against {@link Q4KTiles#far4}
 * (the same operations in the same order, see its comment), and the eight-row arrangement (eighths of the rows,
 * the rest one at a time) and the driver's default over a range that starts at an odd row against a scalar oracle
 * in double over {@link BlockFormat#dequantizeRow}. Rows of 1, 2, 3 and 5 super-blocks with a gap after each
 * (non-contiguous), 1..17 rows, activations and outputs at offsets, the special f16 d and dmin of
 * {@link BlockRows#f16Scale} (zero, f16 max, the smallest subnormal and its negative).
 *
 * <p>Tolerance: {@code 2·(k + 4)·2⁻²⁴·Σ_sb 63·(15·|d| + |dmin|)·Σ_{i∈sb} |x_i|}: each dequantized value
 * {@code fma(q, d·sc, −dmin·m)} is within two roundings of the format's value, whose terms are bounded by
 * {@code 15·63·|d|} and {@code 63·|dmin|}, then a dot product of length k and a 16-lane sum. A tile that drops a
 * sub-block, a nibble half or a row, or swaps rows, misses by far more on random data.
 */
class Q4KTilesTest {
    private static final BlockFormat Q4K = BlockFormats.of(DType.Q4_K);
    private static final int GAP = 7, XO = 5, CI = 2, CS = 3;

    @Test
    void eightRowTileEqualsTheFourRowTile() {
        assumeTrue(VL == 16, "the eight-row tile is for 512-bit vectors");
        Random r = new Random(44);
        for (int sbs : new int[] {1, 2, 3, 5}) {
            int k = 256 * sbs, q = 3;
            long rowBytes = Q4K.rowBytes(k) + GAP;
            MemorySegment w = rows(r, 8 * q, sbs, rowBytes);
            float[] x = BlockRows.activations(r, k, XO, false);
            float[] s = new float[TileDriver.scratch(k)];
            float[] four = new float[8 * q], eight = new float[8 * q];
            for (int j = 0; j < 2 * q; j++) {
                Q4KTiles.far4(w, j * rowBytes, 2 * q * rowBytes, k, x, XO, s, four, j, 2 * q);
            }
            for (int j = 0; j < q; j++) {
                eight(w, j * rowBytes, q * rowBytes, k, x, s, eight, j, q);
            }
            BlockRows.assertSameBits(four, eight, "super-blocks " + sbs);
        }
    }

    @Test
    void eightRowArrangementAndDriverMatchTheScalarOracle() {
        Random r = new Random(45);
        for (int sbs : new int[] {1, 2, 3}) {
            int k = 256 * sbs;
            long rowBytes = Q4K.rowBytes(k) + GAP;
            for (int n = 1; n <= 17; n++) {
                MemorySegment w = rows(r, n + 1, sbs, rowBytes);
                float[] x = BlockRows.activations(r, k, XO, false);
                float[] s = new float[TileDriver.scratch(k)];
                float[] byDriver = new float[CI + n + 1];
                Arrays.fill(byDriver, Float.NaN);
                // rows [1, n + 1) of the segment: a range that starts at an odd row, as a thread's share does
                TileDriver.decode(TileDriver.Q4_K, k, x, XO, w, 0, rowBytes, s, byDriver, CI - 1, 1, n + 1);
                float[] byEight = VL == 16 ? eightThenOne(w.asSlice(rowBytes), n, k, rowBytes, x, s) : null;
                for (int j = 0; j < n; j++) {
                    double[] want = oracle(w, (j + 1) * rowBytes, k, x);
                    String what = "super-blocks " + sbs + " n=" + n + " row " + j;
                    double tol = 2 * (k + 4) * 0x1p-24 * want[1];
                    assertEquals(want[0], byDriver[CI + j], tol, what + " (driver)");
                    if (byEight != null) {
                        assertEquals(want[0], byEight[CI + j * CS], tol, what + " (eight)");
                    }
                }
                assertTrue(Float.isNaN(byDriver[CI - 1]) && Float.isNaN(byDriver[CI + n]), "outside the range");
            }
        }
    }

    /** n rows from byte 0: {@link Q4KTiles#eight} over the first 8·(n/8) (row j with j + q, .., j + 7q), then one. */
    private static float[] eightThenOne(MemorySegment w, int n, int k, long rowBytes, float[] x, float[] s) {
        float[] c = new float[CI + n * CS];
        int q = n / 8;
        for (int j = 0; j < q; j++) {
            eight(w, j * rowBytes, q * rowBytes, k, x, s, c, CI + j * CS, q * CS);
        }
        for (int j = 8 * q; j < n; j++) {
            c[CI + j * CS] = Q4KTiles.one(w, j * rowBytes, k, x, XO, s);
        }
        return c;
    }

    /** {@link Q4KTiles#eight} with its outputs summed as {@link TileDriver} does. */
    private static void eight(MemorySegment w, long o0, long step, int k, float[] x, float[] s, float[] c, int ci,
                              int cs) {
        Q4KTiles.eight(w, o0, step, k, x, XO, s);
        for (int r = 0; r < 8; r++) {
            c[ci + r * cs] = QSpecies.hsum(s, r * VL);
        }
    }

    /** n Q4_K rows of sbs super-blocks, rowBytes apart: random bytes, d and dmin from {@link BlockRows#f16Scale}. */
    private static MemorySegment rows(Random r, int n, int sbs, long rowBytes) {
        MemorySegment w = BlockRows.randomBytes(Arena.ofAuto(), r, n * rowBytes);
        for (int j = 0; j < n; j++) {
            for (int sb = 0; sb < sbs; sb++) {
                for (int h = 0; h < 2; h++) {                // d, then dmin
                    w.set(ValueLayout.JAVA_SHORT_UNALIGNED, j * rowBytes + 144L * sb + 2 * h,
                            BlockRows.f16Scale(r, 2 * sb + h, 1e-2));
                }
            }
        }
        return w;
    }

    /** The row at o with x[XO ..] in double over the format's values, and the magnitude the tolerance scales with. */
    private static double[] oracle(MemorySegment w, long o, int k, float[] x) {
        float[] v = new float[k];
        Q4K.dequantizeRow(w, o, k, v, 0);
        double sum = 0, mag = 0;
        for (int sb = 0; sb < k / 256; sb++) {
            double d = Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, o + 144L * sb));
            double dmin = Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, o + 144L * sb + 2));
            double ax = 0;
            for (int i = 256 * sb; i < 256 * sb + 256; i++) {
                sum += (double) v[i] * x[XO + i];
                ax += Math.abs(x[XO + i]);
            }
            mag += 63 * (15 * Math.abs(d) + Math.abs(dmin)) * ax;
        }
        return new double[] {sum, mag};
    }
}
