package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

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
    @Test
    void blockScaleTilesMatchTheScalarOracle() {
        BlockRows.sweep(new BlockRows.Format(34, (k, x, xo, s) -> { }, Q80TilesTest::far8, Q80Tiles::scaleOne,
                Q80TilesTest::oracle, k -> 2 * (k + 2) * 0x1p-24), new Random(80), 0, 1, 2, 3, 5, 17, 64);
    }

    /** {@link Q80Tiles#scaleFar8} with its outputs summed as {@link TileDriver} does. */
    private static void far8(MemorySegment w, long o0, long step, int k, float[] x, int xo, float[] s, float[] c,
                             int ci, int cs) {
        Q80Tiles.scaleFar8(w, o0, step, k, x, xo, s);
        for (int r = 0; r < 8; r++) {
            c[ci + r * cs] = QSpecies.hsum(s, r * VL);
        }
    }

    /** The Q8_0 block at o: Σ_i d·q_i·x_i, magnitude Σ_i |d|·|q_i|·|x_i|. */
    private static void oracle(MemorySegment w, long o, float[] x, int xb, double[] sums) {
        double d = Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, o));
        for (int i = 0; i < 32; i++) {
            int q8 = w.get(ValueLayout.JAVA_BYTE, o + 2 + i);
            double xi = x[xb + i];
            sums[0] += d * q8 * xi;
            sums[1] += Math.abs(d) * Math.abs(q8) * Math.abs(xi);
        }
    }
}
