package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Q8_0 decode tiles of {@link Q80Tiles}, called directly (whatever {@code dev.interlayer.q8_0.tile} says):
 * the block-scale tiles against a scalar oracle in double, {@code Σ_i d_b(i)·q_i·x_i}; the compact tile against
 * the written-out one ({@link Block32Tiles#q8_0Far8}) bit for bit; the batch tile against the one-row tile bit for
 * bit. Row counts 1..17 (the eight-row tile and the one-row remainder as {@link TileDriver} arranges them), 0, 1,
 * 2, 3, 5, 17 and 64 blocks (more than one {@link Q80Tiles#CHUNK}), rows with a gap after them, activations at
 * an offset, outputs at an offset and stride, an extreme scale (f16 max) and an extreme activation (1e30).
 *
 * <p>Tolerance: {@code 2·(k + 2)·2⁻²⁴·Σ_b |d_b|·Σ_i |q_i|·|x_i|}, a dot product of length k with one more rounding
 * per block for the scale (each q·x is exact inside its FMA). A tile that drops a block, a half or a row, or
 * swaps rows, misses by far more on random data.
 */
class Q80TilesTest {
    private static final int GAP = 6, XO = 3, CI = 2, CS = 3;

    @Test
    void blockScaleTilesMatchTheScalarOracle() {
        Random r = new Random(80);
        for (int nb : new int[] {0, 1, 2, 3, 5, 17, 64}) {
            for (int n = 1; n <= 17; n++) {
                check(r, n, nb, false);
            }
            check(r, 7, nb, true);
            check(r, 16, nb, true);
        }
    }

    /** The compact tile is the written-out one's floats, bit for bit, across chunk boundaries. */
    @Test
    void compactTileIsTheWrittenOutOne() {
        Random r = new Random(81);
        for (int nb : new int[] {0, 1, 3, 16, 17, 33, 64}) {
            int k = 32 * nb;
            long rowBytes = 34L * nb + GAP;
            for (int q = 1; q <= 3; q++) {
                MemorySegment w = weights(r, 8 * q, nb, rowBytes, nb == 17);
                float[] x = gaussian(r, XO + k + 5);
                float[] s = new float[TileDriver.scratch(k)];
                float[] want = new float[CI + 8 * q * CS], got = new float[want.length];
                for (int j = 0; j < q; j++) {
                    Block32Tiles.q8_0Far8(w, j * rowBytes, q * rowBytes, k, x, XO, s, want, CI + j * CS, q * CS);
                    Q80Tiles.far8(w, j * rowBytes, q * rowBytes, k, x, XO, s, got, CI + j * CS, q * CS);
                }
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                            "blocks=" + nb + " rows=" + 8 * q + " slot " + i);
                }
            }
        }
    }

    /**
     * The batch tile ({@link Q80Tiles#scaleW2x4}, as {@code BatchDriver} arranges it: weight rows two at a time,
     * activation rows four at a time with repeats) gives every output bit for bit what {@link Q80Tiles#scaleOne}
     * gives for that activation row alone, so batched decode stays row-exact.
     */
    @Test
    void batchTileIsEachRowsDecode() {
        Random r = new Random(82);
        for (int nb : new int[] {0, 1, 3, 8}) {
            int k = 32 * nb, lda = k + 5;
            long rowBytes = 34L * nb + GAP;
            for (int n = 1; n <= 5; n++) {
                MemorySegment w = weights(r, n, nb, rowBytes, false);
                for (int m = 1; m <= 9; m += 2) {
                    float[] a = gaussian(r, XO + m * lda);
                    float[] s = new float[8 * QSpecies.VL + 64];
                    int ldc = n + 2;
                    float[] c = new float[m * ldc];
                    Arrays.fill(c, Float.NaN);
                    for (int j = 0; j < n; j += 2) {
                        int nr = Math.min(2, n - j);
                        for (int i = 0; i < m; i += 4) {
                            int mr = Math.min(4, m - i), x0 = XO + i * lda;
                            int[] xs = new int[4];
                            for (int t = 0; t < 4; t++) {
                                xs[t] = x0 + Math.min(t, mr - 1) * lda;
                            }
                            Q80Tiles.scaleW2x4(w, j * rowBytes, (j + nr - 1) * rowBytes, k, a, xs[0], xs[1], xs[2],
                                    xs[3], s, c, i * ldc + j, ldc, nr, mr);
                        }
                    }
                    float[] one = new float[TileDriver.scratch(k)];
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            float want = Q80Tiles.scaleOne(w, j * rowBytes, k, a, XO + i * lda, one);
                            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(c[i * ldc + j]),
                                    "blocks=" + nb + " n=" + n + " m=" + m + " output [" + i + ", " + j + "]");
                        }
                        assertTrue(Float.isNaN(c[i * ldc + n]) && Float.isNaN(c[i * ldc + n + 1]), "wrote past n");
                    }
                }
            }
        }
    }

    /** n Q8_0 rows of nb blocks, rowBytes apart: random codes, Gaussian scales (one block at ±f16 max if extreme). */
    private static MemorySegment weights(Random r, int n, int nb, long rowBytes, boolean extreme) {
        MemorySegment w = Arena.ofAuto().allocate(Math.max(1, n * rowBytes), 64);
        byte[] codes = new byte[(int) (n * rowBytes)];
        r.nextBytes(codes);
        w.copyFrom(MemorySegment.ofArray(codes));
        for (int j = 0; j < n; j++) {
            for (int b = 0; b < nb; b++) {
                float d = (float) (r.nextGaussian() * 0.02);
                if (extreme && b == nb / 2) {
                    d = j % 2 == 0 ? 65504f : -65504f;
                }
                w.set(ValueLayout.JAVA_SHORT_UNALIGNED, j * rowBytes + 34L * b, Float.floatToFloat16(d));
            }
        }
        return w;
    }

    private static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    private static void check(Random r, int n, int nb, boolean extreme) {
        int k = 32 * nb;
        long rowBytes = 34L * nb + GAP;
        MemorySegment w = weights(r, n, nb, rowBytes, extreme);
        float[] x = gaussian(r, XO + k + 5);
        if (extreme && k > 0) {
            x[XO + k / 2 + 1] = 1e30f;
            x[XO + k - 1] = -3e29f;
        }
        float[] s = new float[TileDriver.scratch(k)];
        float[] c = new float[CI + n * CS + 4];
        Arrays.fill(c, Float.NaN);
        int q = n / 8;
        for (int j = 0; j < q; j++) {
            Q80Tiles.scaleFar8(w, j * rowBytes, q * rowBytes, k, x, XO, s, c, CI + j * CS, q * CS);
        }
        for (int j = 8 * q; j < n; j++) {
            c[CI + j * CS] = Q80Tiles.scaleOne(w, j * rowBytes, k, x, XO, s);
        }
        for (int j = 0; j < n; j++) {
            double want = 0, mag = 0;
            for (int b = 0; b < nb; b++) {
                long o = j * rowBytes + 34L * b;
                double d = Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, o));
                for (int i = 0; i < 32; i++) {
                    int q8 = w.get(ValueLayout.JAVA_BYTE, o + 2 + i);
                    double xi = x[XO + 32 * b + i];
                    want += d * q8 * xi;
                    mag += Math.abs(d) * Math.abs(q8) * Math.abs(xi);
                }
            }
            float got = c[CI + j * CS];
            String what = "n=" + n + " blocks=" + nb + (extreme ? " extreme" : "") + " row " + j;
            assertTrue(Float.isFinite(got), what + ": " + got);
            assertEquals(want, got, 2 * (k + 2) * 0x1p-24 * mag, what);
        }
        for (int i = 0; i < c.length; i++) {
            boolean output = i >= CI && (i - CI) % CS == 0 && (i - CI) / CS < n;
            assertEquals(output, !Float.isNaN(c[i]), "output slot " + i + " written: " + !output);
        }
    }
}
