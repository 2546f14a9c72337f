package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The Q4_0 tile switch takes its two documented values and refuses anything else by name. */
class TileSwitchTest {
    @Test
    void q40TileAcceptsQuadsAndPairsOnly() {
        assertTrue(TileDriver.q40Tile("quads"));
        assertFalse(TileDriver.q40Tile("pairs"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TileDriver.q40Tile("quad"));
        assertTrue(e.getMessage().contains("quads") && e.getMessage().contains("pairs"), e.getMessage());
    }
}
