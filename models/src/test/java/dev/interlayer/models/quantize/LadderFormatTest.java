package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.quant.Rtn;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The ladder's formats: their bits per weight are exactly what the quantized linears store (codes + fp16 scale +
 * fp16 offset per 32 values) and, for GGUF types, what the blocks take on disk; the ladder's parse errors.
 * Bit counts are sums of halves and quarters, exact in double, so they are compared exactly.
 */
class LadderFormatTest {
    @Test
    void bitsPerWeightAreExactlyWhatTheLinearsAndTheBlocksStore() {
        var r = new SplittableRandom(7);
        float[] w = new float[8 * 64];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        double[][] expect = {{8.5}, {5.5}, {6.0}, {4.5}, {5.0}, {4.5}, {3.5}, {3.0}};
        String[] names = {"q8_0", "q5_0", "q5_1", "q4_0", "q4_1", "i4", "i3", "i2"};
        for (int i = 0; i < names.length; i++) {
            LadderFormat f = LadderFormat.parse(names[i].toUpperCase(java.util.Locale.ROOT));
            QuantizedLinear q = Rtn.quantize(w, 8, 64, f.scheme(ClipSearch.MSE));
            assertEquals(expect[i][0], f.bitsPerWeight(), 0.0, names[i]);
            assertEquals(f.bitsPerWeight(), q.bitsPerWeight(), 0.0, names[i] + ": the linear's own count");
            if (f.type() != null) {
                assertEquals(f.bitsPerWeight(), 8.0 * f.type().blockBytes() / f.type().blockSize(), 0.0,
                        names[i] + ": GGUF block bytes");
                assertEquals(8 * 2 * f.type().blockBytes(), GgmlBlocks.pack(q).length, names[i] + ": packed size");
            } else {
                assertTrue(f.describe().contains("no GGUF type"), f.describe());
            }
            assertEquals(names[i], LadderFormat.of(q.scheme()).name(), "the format of the linear's scheme");
            assertTrue(f.fits(64) && !f.fits(172), names[i]);
        }
        assertNull(LadderFormat.of(new dev.interlayer.quant.QuantScheme(dev.interlayer.quant.GridKind.ASYM_ZERO, 4, 32,
                ClipSearch.NONE, dev.interlayer.quant.QuantScheme.ScaleFormat.F16)));
    }

    @Test
    void ladderParsesInOrderAndRefusesBadLists() {
        List<LadderFormat> l = LadderFormat.ladder(LadderFormat.DEFAULT_LADDER);
        assertEquals(List.of("q8_0", "q5_0", "q4_0", "i3", "i2"), l.stream().map(LadderFormat::name).toList());
        String[][] bad = {
            {"q4_0,q8_0", "from most to fewest bits", "q8_0 (8.5) follows q4_0 (4.5)"},
            {"q8_0,q4_0,q4_0", "q4_0 is given twice"},
            {"q8_0,q3_k", "unknown format 'q3_k'", "i2"},
            {"q8_0", "at least two formats"},
            {"q8_0,i4,q4_0", "q4_0 (4.5) follows i4 (4.5)"},
        };
        for (String[] b : bad) {
            var e = assertThrows(IllegalArgumentException.class, () -> LadderFormat.ladder(b[0]));
            for (int i = 1; i < b.length; i++) {
                assertTrue(e.getMessage().contains(b[i]), b[0] + " -> " + e.getMessage());
            }
        }
    }
}
