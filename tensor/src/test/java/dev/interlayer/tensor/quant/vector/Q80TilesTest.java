package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Q8_0 block-scale decode tiles of {@link Q80Tiles}, called directly (whatever {@code dev.interlayer.q8_0.tile}
 * says): the eight-row and one-row tiles against a scalar oracle in double, {@code Σ_i d_b(i)·q_i·x_i} (the
 * batch tile, {@link Q80Tiles#scaleW2x4}, is checked bit for bit against decode by {@code QuantRowsIdentityTest}).
 * Row counts 1..17 (the eight-row tile and the one-row remainder as {@link TileDriver} arranges them), 0, 1, 2, 3,
 * 5, 17 and 64 blocks (more than one {@link Q80Tiles#CHUNK}), rows with a gap after them, activations at
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

    /** {@link Q80Tiles#scaleFar8} with its outputs summed as {@link TileDriver} does. */
    private static void far8(MemorySegment w, long o0, long step, int k, float[] x, int xo, float[] s, float[] c,
                             int ci, int cs) {
        Q80Tiles.scaleFar8(w, o0, step, k, x, xo, s);
        for (int r = 0; r < 8; r++) {
            c[ci + r * cs] = QSpecies.hsum(s, r * VL);
        }
    }

    private static void check(Random r, int n, int nb, boolean extreme) {
        int k = 32 * nb;
        long rowBytes = 34L * nb + GAP;
        MemorySegment w = BlockRows.weights(r, n, nb, rowBytes, 34, extreme);
        float[] x = BlockRows.activations(r, k, XO, extreme);
        float[] s = new float[TileDriver.scratch(k)];
        float[] c = BlockRows.decode(Q80TilesTest::far8, Q80Tiles::scaleOne, w, n, k, rowBytes, x, XO, s, CI, CS);
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
    }
}
