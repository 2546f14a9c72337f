package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Q4_0's written-out block-scale tile {@link Q40ScaleTiles#far8Unrolled} (its vectors cast to their exact classes,
 * its scales read inline) gives the compact tile {@link Q40ScaleTiles#far8}'s floats bit for bit: random codes,
 * random scales with zero and subnormal ones among them, 1-70 blocks, rows far apart as {@link TileDriver} places
 * them, activations at an offset. Any vector width (both tiles loop over the parts of a 16-code group).
 */
class Q40UnrolledTileTest {
    @Test
    void unrolledTileEqualsTheCompactTile() {
        Random r = new Random(44);
        for (int nb : new int[] {1, 5, 32, 33, 64, 70}) {
            int k = 32 * nb, rowBytes = 18 * nb, q = 3, xo = 3;
            MemorySegment w = Arena.ofAuto().allocate((long) rowBytes * 8 * q + 5);
            for (long i = 0; i < w.byteSize(); i++) {
                w.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
            }
            int block = 0;
            for (long o = 5; o + 18 <= w.byteSize(); o += 18, block++) {
                w.set(ValueLayout.JAVA_SHORT_UNALIGNED, o, BlockRows.f16Scale(r, block, 0.05));
            }
            float[] x = new float[xo + k];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] s1 = new float[TileDriver.scratch(k)], s2 = new float[TileDriver.scratch(k)];
            Q40ScaleTiles.blockSums(k, x, xo, s1, Q40ScaleTiles.SUMS);
            Q40ScaleTiles.blockSums(k, x, xo, s2, Q40ScaleTiles.SUMS);
            float[] c1 = new float[8 * q], c2 = new float[8 * q];
            for (int j = 0; j < q; j++) {
                Q40ScaleTiles.far8(w, 5 + (long) j * rowBytes, (long) q * rowBytes, k, x, xo, s1, c1, j, q);
                Q40ScaleTiles.far8Unrolled(w, 5 + (long) j * rowBytes, (long) q * rowBytes, k, x, xo, s2, c2, j, q);
            }
            for (int i = 0; i < c1.length; i++) {
                assertEquals(Float.floatToRawIntBits(c1[i]), Float.floatToRawIntBits(c2[i]),
                        "nb=" + nb + " row " + i + ": " + c1[i] + " vs " + c2[i]);
            }
        }
    }
}
