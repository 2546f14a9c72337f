package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * GPTQ against reference/quant-ptq/gen_gptq.py: PyTorch float64, unblocked column loop, U from
 * cholesky → cholesky_inverse → cholesky(upper) (the Java code uses a reversed Cholesky and a triangular
 * inverse, and lazy block updates). H is accumulated by {@link HessianAccumulator} from the same float32
 * rows with the same padding mask. Codes, zero points and group indices must be identical; scales are
 * float32 in both and must be identical; the per-row loss agrees to 1e-9 relative (float64, different
 * summation order).
 */
class GptqGoldenTest {
    @Test
    void matchesReference() {
        Golden.forEachCase("gptq.json", 7, c -> {
            int rows = c.get("rows").getAsInt(), cols = c.get("cols").getAsInt();
            GptqOptions opt = GptqOptions.DEFAULT.withActOrder(c.get("actOrder").getAsBoolean())
                    .withStaticGroups(c.get("staticGroups").getAsBoolean()).withBlockSize(c.get("blockSize").getAsInt());
            Gptq.Result r = Gptq.quantize(Golden.floats(c, "w"), rows, cols, Golden.hessian(c), Golden.scheme(c), opt);
            Golden.assertSame(c, r.weights());
            String name = c.get("name").getAsString();
            if (c.has("groupIndex")) {
                assertArrayEquals(Golden.ints(c, "groupIndex"), r.weights().groupIndex(), name + " groupIndex");
            } else {
                assertNull(r.weights().groupIndex(), name + " groupIndex");
            }
            double[] loss = Golden.doubles(c, "rowLoss");
            for (int i = 0; i < rows; i++) {
                assertEquals(loss[i], r.rowLoss()[i], 1e-9 * Math.abs(loss[i]) + 1e-300, name + " row loss " + i);
            }
        });
    }
}
