package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Q6_K's two 512-bit decode tiles give the same floats bit for bit: {@link Q6KTiles#far2WideUnrolled} (the default,
 * its vectors cast to their exact classes) and {@link Q6KTiles#far2Wide} (the compact tile), over random rows (every
 * code and int8 scale, super-block scales random, zero, f16 max and subnormal), 1-5 super-blocks, rows far apart as
 * {@link TileDriver} places them; {@code Q6KDecodeExactTest} checks the default against the scalar oracle.
 */
class Q6KTilesTest {
    @Test
    void unrolledTileEqualsTheCompactTile() {
        assumeTrue(QSpecies.VL == 16, "both tiles are for 512-bit vectors");
        Random r = new Random(61);
        for (int nsb = 1; nsb <= 5; nsb++) {
            int k = 256 * nsb, q = 3;
            long rb = 210L * nsb;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = BlockRows.randomBytes(arena, r, 2 * q * rb);
                for (int sb = 0; sb < 2 * q * nsb; sb++) {
                    w.set(ValueLayout.JAVA_SHORT_UNALIGNED, 210L * sb + 208, BlockRows.f16Scale(r, sb, 1e-3));
                }
                float[] x = new float[k + 5];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                float[] s1 = new float[TileDriver.scratch(k)], s2 = new float[TileDriver.scratch(k)];
                float[] c1 = new float[2 * q], c2 = new float[2 * q];
                for (int j = 0; j < q; j++) {
                    Q6KTiles.far2Wide(w, j * rb, q * rb, k, x, 5, s1, c1, j, q);
                    Q6KTiles.far2WideUnrolled(w, j * rb, q * rb, k, x, 5, s2, c2, j, q);
                }
                BlockRows.assertSameBits(c1, c2, "super-blocks " + nsb);
            }
        }
    }
}
