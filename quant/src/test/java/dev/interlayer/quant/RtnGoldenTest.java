package dev.interlayer.quant;

import org.junit.jupiter.api.Test;

/**
 * RTN against reference/quant-ptq/gen_rtn.py (PyTorch float64 from the grid equations): every grid kind,
 * per-row and grouped (one short last group), with and without the clipping search. Codes and zero points
 * must be identical; scales are float32 in both and must be identical too.
 */
class RtnGoldenTest {
    @Test
    void matchesReference() {
        Golden.forEachCase("rtn.json", 11, c -> {
            QuantizedLinear q = Rtn.quantize(Golden.floats(c, "w"), c.get("rows").getAsInt(), c.get("cols").getAsInt(),
                    Golden.scheme(c));
            Golden.assertSame(c, q);
        });
    }
}
