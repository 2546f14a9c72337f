package dev.interlayer.tensor.quant.vector;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Q4_0's written-out block-scale tile {@link Q40ScaleTiles#far8Unrolled} (its vectors cast to their exact classes,
 * its scales read inline) gives the compact tile {@link Q40ScaleTiles#far8}'s floats bit for bit
 * ({@link Q40ScaleTilesTest#assertTileEqualsPairsTile}: zero and subnormal scales among random ones, 1-70 blocks,
 * rows far apart, activations at an offset). Any vector width (both tiles loop over the parts of a 16-code group).
 */
class Q40UnrolledTileTest {
    @Test
    void unrolledTileEqualsTheCompactTile() {
        Q40ScaleTilesTest.assertTileEqualsPairsTile(Q40ScaleTiles::far8Unrolled, new Random(44));
    }
}
