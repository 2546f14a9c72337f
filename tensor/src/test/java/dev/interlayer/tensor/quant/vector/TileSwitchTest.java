package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The Q4_0 tile switch takes its three documented values and refuses anything else by name. */
class TileSwitchTest {
    @Test
    void q40TileAcceptsQuadsUnrolledAndPairsOnly() {
        assertEquals(TileDriver.Q4_0_UNROLLED, TileDriver.q40Tile("unrolled"));
        assertEquals(TileDriver.Q4_0_QUADS, TileDriver.q40Tile("quads"));
        assertEquals(TileDriver.Q4_0_PAIRS, TileDriver.q40Tile("pairs"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TileDriver.q40Tile("quad"));
        assertTrue(e.getMessage().contains("quads") && e.getMessage().contains("pairs")
                && e.getMessage().contains("unrolled"), e.getMessage());
    }
}
