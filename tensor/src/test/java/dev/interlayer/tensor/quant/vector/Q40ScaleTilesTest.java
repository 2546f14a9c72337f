package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The block-scale Q4_0 tiles ({@link Q40ScaleTiles}), called directly (whatever
 * {@code dev.interlayer.q4_0.blockscale} says), against a scalar oracle in double:
 * {@code Σ_i d_b(i)·(q_i − 8)·x_i}. Row counts 1..17 (the eight-row tile and the one-row remainder
 * as {@link TileDriver} arranges them), 0, 1, 2, 3, 5 and 64 blocks, rows with a gap after them, activations at an
 * offset, outputs at an offset and stride, an extreme scale (f16 max) and an extreme activation (1e30).
 *
 * <p>Tolerance: {@code 4·(k + 8)·2⁻²⁴·Σ_b |d_b|·Σ_i (q_i + 8)·|x_i|}: the two terms of the factored sum are each
 * that large, and cancel where q_i is near 8. A tile that drops the −8 term, a block, or a row misses by far more
 * on random data.
 */
class Q40ScaleTilesTest {
    private static final int GAP = 6, XO = 3;

    @Test
    void tilesMatchTheScalarOracle() {
        BlockRows.sweep(new BlockRows.Format(18, (k, x, xo, s) -> Q40ScaleTiles.blockSums(k, x, xo, s,
                Q40ScaleTiles.SUMS), Q40ScaleTiles::far8, Q40ScaleTiles::one, Q40ScaleTilesTest::oracle,
                k -> 4 * (k + 8) * 0x1p-24), new Random(40), 0, 1, 2, 3, 5, 64);
    }

    @Test
    void quadsTileMatchesTheScalarOracle() {
        BlockRows.sweep(new BlockRows.Format(18, (k, x, xo, s) -> Q40ScaleTiles.blockSums(k, x, xo, s,
                Q40ScaleTiles.SUMS), Q40ScaleTiles::far8Quads, Q40ScaleTiles::one, Q40ScaleTilesTest::oracle,
                k -> 4 * (k + 8) * 0x1p-24), new Random(42), 0, 1, 2, 3, 5, 33, 64, 65);
    }

    /**
     * {@link Q40ScaleTiles#far8Quads} (four rows per compiled group) gives every output bit for bit what
     * {@link Q40ScaleTiles#far8} (rows in pairs) gives: the same operations per row in the same order, so the switch
     * {@code dev.interlayer.q4_0.tile} changes no output, and batched decode ({@link Q40ScaleTiles#w2x4}, checked
     * against {@link Q40ScaleTiles#one} below) stays row-exact either way. Block counts across the 32-block chunks.
     */
    @Test
    void quadsTileEqualsPairsTile() {
        assertTileEqualsPairsTile(Q40ScaleTiles::far8Quads, new Random(43));
    }

    /**
     * {@code tile} gives {@link Q40ScaleTiles#far8}'s floats bit for bit: random codes, random scales with zero and
     * subnormal ones among them ({@link BlockRows#f16Scale}), 1-70 blocks (across the 32-block chunks), rows far
     * apart as {@link TileDriver} places them, activations at an offset.
     */
    static void assertTileEqualsPairsTile(BlockRows.Eight tile, Random r) {
        for (int nb : new int[] {1, 5, 32, 33, 64, 70}) {
            int k = 32 * nb, rowBytes = 18 * nb, q = 3;
            MemorySegment w = java.lang.foreign.Arena.ofAuto().allocate((long) rowBytes * 8 * q + 5);
            for (long i = 0; i < w.byteSize(); i++) {
                w.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
            }
            int block = 0;
            for (long o = 5; o + 18 <= w.byteSize(); o += 18, block++) {
                w.set(ValueLayout.JAVA_SHORT_UNALIGNED, o, BlockRows.f16Scale(r, block, 0.05));
            }
            float[] x = new float[XO + k];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] s1 = new float[TileDriver.scratch(k)], s2 = new float[TileDriver.scratch(k)];
            Q40ScaleTiles.blockSums(k, x, XO, s1, Q40ScaleTiles.SUMS);
            Q40ScaleTiles.blockSums(k, x, XO, s2, Q40ScaleTiles.SUMS);
            float[] c1 = new float[8 * q], c2 = new float[8 * q];
            for (int j = 0; j < q; j++) {
                Q40ScaleTiles.far8(w, 5 + (long) j * rowBytes, (long) q * rowBytes, k, x, XO, s1, c1, j, q);
                tile.tile(w, 5 + (long) j * rowBytes, (long) q * rowBytes, k, x, XO, s2, c2, j, q);
            }
            BlockRows.assertSameBits(c1, c2, "nb=" + nb);
        }
    }

    /**
     * The batch tile ({@link Q40ScaleTiles#w2x4}, as {@code BatchDriver} arranges it: weight rows two at a time,
     * activation rows four at a time with repeats) gives every output bit for bit what {@link Q40ScaleTiles#one}
     * gives for that activation row alone, so batched decode stays row-exact.
     */
    @Test
    void batchTileIsEachRowsDecode() {
        Random r = new Random(41);
        for (int nb : new int[] {0, 1, 3, 8}) {
            int k = 32 * nb, lda = k + 5;
            long rowBytes = 18L * nb + GAP;
            for (int n = 1; n <= 5; n++) {
                MemorySegment w = BlockRows.weights(r, n, nb, rowBytes, 18, false);
                for (int m = 1; m <= 9; m += 2) {
                    float[] a = BlockRows.gaussian(r, XO + m * lda);
                    float[] s = new float[Q40ScaleTiles.SUMS + m * nb];
                    for (int i = 0; i < m; i++) {
                        Q40ScaleTiles.blockSums(k, a, XO + i * lda, s, Q40ScaleTiles.SUMS + i * nb);
                    }
                    int ldc = n + 2;
                    float[] c = new float[m * ldc];
                    Arrays.fill(c, Float.NaN);
                    for (int j = 0; j < n; j += 2) {
                        int nr = Math.min(2, n - j);
                        for (int i = 0; i < m; i += 4) {
                            int mr = Math.min(4, m - i), x0 = XO + i * lda, s0 = Q40ScaleTiles.SUMS + i * nb;
                            int[] xs = new int[4], ss = new int[4];
                            for (int t = 0; t < 4; t++) {
                                xs[t] = x0 + Math.min(t, mr - 1) * lda;
                                ss[t] = s0 + Math.min(t, mr - 1) * nb;
                            }
                            Q40ScaleTiles.w2x4(w, j * rowBytes, (j + nr - 1) * rowBytes, k, a, xs[0], xs[1], xs[2],
                                    xs[3], s, ss[0], ss[1], ss[2], ss[3], c, i * ldc + j, ldc, nr, mr);
                        }
                    }
                    float[] one = new float[TileDriver.scratch(k)];
                    for (int i = 0; i < m; i++) {
                        Q40ScaleTiles.blockSums(k, a, XO + i * lda, one, Q40ScaleTiles.SUMS);
                        for (int j = 0; j < n; j++) {
                            float want = Q40ScaleTiles.one(w, j * rowBytes, k, a, XO + i * lda, one);
                            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(c[i * ldc + j]),
                                    "blocks=" + nb + " n=" + n + " m=" + m + " output [" + i + ", " + j + "]");
                        }
                        assertTrue(Float.isNaN(c[i * ldc + n]) && Float.isNaN(c[i * ldc + n + 1]), "wrote past n");
                    }
                }
            }
        }
    }

    /**
     * The Q4_0 block at o: Σ_i d·(q_i − 8)·x_i; magnitude Σ_i |d|·(q_i + 8)·|x_i|, the size of the two terms of the
     * tiles' factored sum.
     */
    private static void oracle(MemorySegment w, long o, float[] x, int xb, double[] sums) {
        double d = Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, o));
        for (int i = 0; i < 16; i++) {
            int byt = w.get(ValueLayout.JAVA_BYTE, o + 2 + i) & 0xFF;
            double xl = x[xb + i], xh = x[xb + 16 + i];
            sums[0] += d * ((byt & 15) - 8) * xl + d * ((byt >>> 4) - 8) * xh;
            sums[1] += Math.abs(d) * (((byt & 15) + 8) * Math.abs(xl) + ((byt >>> 4) + 8) * Math.abs(xh));
        }
    }
}
