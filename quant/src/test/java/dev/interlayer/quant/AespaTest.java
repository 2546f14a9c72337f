package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * aespa's learned rounding against reference/quant-ptq/gen_aespa.py: GPTQ init then AdaRound with torch
 * autograd and torch.optim.Adam in float64 (the Java side has a hand-derived gradient). The fixture's runs
 * change 5–10 codes each relative to GPTQ; the Java codes must be identical. Invariants: with 0 iterations
 * aespa is GPTQ; every code is floor or ceil of the GPTQ-updated weight on its grid.
 */
class AespaTest {
    @Test
    void matchesAutogradReference() {
        Golden.forEachCase("aespa.json", 3, c -> {
            int heads = c.get("heads").getAsInt(), hd = c.get("headDim").getAsInt(), cols = c.get("cols").getAsInt();
            double[] h = Golden.hessian(c);
            double[][] g = c.has("g") ? Golden.doubleRows(c, "g") : null;
            float[] w = Golden.floats(c, "w");
            QuantScheme s = Golden.scheme(c);
            QuantizedLinear gptq = Gptq.quantize(w, heads * hd, cols, h, s, GptqOptions.DEFAULT).weights();
            int[] gc = Golden.ints(c, "gptqCodes");
            for (int i = 0; i < gc.length; i++) {
                assertEquals(gc[i], Byte.toUnsignedInt(gptq.codes()[i]), c.get("name") + " GPTQ init code " + i);
            }
            QuantizedLinear q = Aespa.quantize(w, heads, hd, cols, h, g, s,
                    Aespa.Options.QKV.withIterations(c.get("iterations").getAsInt()));
            Golden.assertSame(c, q);
        });
    }

    /**
     * Per-row grids (ASYM_ZERO, 2-4 bits) and grouped ones (GGML Q4_1's offset grid, Q4_0's signed-max grid, fp16
     * scales): the two invariants per row or group.
     */
    @ParameterizedTest(name = "grouped={0}")
    @ValueSource(booleans = {false, true})
    void zeroIterationsIsGptqAndCodesStayWithinOneStep(boolean grouped) {
        for (int t = 0; t < 6; t++) {
            var r = new SplittableRandom((grouped ? 12_000 : 11_000) + t);
            int heads = 1 + r.nextInt(2), hd = 1 + r.nextInt(4), rows = heads * hd;
            int cols = grouped ? 8 * (2 + r.nextInt(3)) : 4 + r.nextInt(16);
            float[] x = Rand.activations(r, 2 * cols, cols);
            double[] h = Rand.hessian(x, 2 * cols, cols);
            float[] w = Rand.weights(r, rows, cols);
            GridKind kind = !grouped ? GridKind.ASYM_ZERO : t % 2 == 0 ? GridKind.ASYM_OFFSET : GridKind.SYM_SIGNED_MAX;
            QuantScheme s = grouped ? new QuantScheme(kind, 4, 8, ClipSearch.NONE, QuantScheme.ScaleFormat.F16)
                    : QuantScheme.of(kind, 2 + r.nextInt(3), 0);
            Gptq.Result gptq = Gptq.quantize(w, rows, cols, h, s, GptqOptions.DEFAULT);
            assertArrayEquals(gptq.weights().codes(),
                    Aespa.quantize(w, heads, hd, cols, h, null, s, Aespa.Options.QKV.withIterations(0)).codes(), "try " + t);
            QuantizedLinear q = Aespa.quantize(w, heads, hd, cols, h, null, s, Aespa.Options.QKV.withIterations(100));
            for (int row = 0; row < rows; row++) {
                for (int c = 0; c < cols; c++) {
                    int k = row * q.groups() + q.group(c);      // per-row grids: one group, k = row
                    double v = gptq.updated()[row * cols + c];
                    double u = kind == GridKind.ASYM_OFFSET ? (v - q.zeros()[k]) / q.scales()[k]
                            : v / q.scales()[k] + q.zeros()[k];
                    double lo = Math.max(0, Math.floor(u)), hi = Math.min(s.maxq(), Math.floor(u) + 1);
                    int code = q.code(row, c);
                    assertTrue(code >= Math.min(lo, hi) && code <= Math.max(lo, hi), "try " + t + ": code " + code
                            + " is not floor/ceil of " + u);
                }
            }
        }
    }
    /**
     * One head whose row factor G is the identity: aespa's objective tr(G·E·H·Eᵀ) is then the layer-wise objective
     * tr(E·H·Eᵀ) that a null G selects, so the learned codes are the same. A non-identity G (a random SPD factor)
     * changes some codes on the same problems, so the comparison can fail.
     */
    @Test
    void singleHeadWithIdentityFactorIsTheLayerWiseObjective() {
        int differ = 0;
        for (int t = 0; t < 6; t++) {
            var r = new SplittableRandom(13_000 + t);
            int hd = 2 + r.nextInt(4), cols = 8 * (2 + r.nextInt(3));
            float[] x = Rand.activations(r, 2 * cols, cols);
            double[] h = Rand.hessian(x, 2 * cols, cols);
            float[] w = Rand.weights(r, hd, cols);
            QuantScheme s = new QuantScheme(GridKind.ASYM_OFFSET, 3, 8, ClipSearch.NONE, QuantScheme.ScaleFormat.F16);
            double[][] identity = new double[1][hd * hd], spd = new double[1][hd * hd];
            double[] a = new double[hd * hd];
            for (int i = 0; i < a.length; i++) {
                a[i] = r.nextDouble(-1, 1);
            }
            for (int i = 0; i < hd; i++) {
                identity[0][i * hd + i] = 1;
                for (int j = 0; j < hd; j++) {
                    for (int k = 0; k < hd; k++) {
                        spd[0][i * hd + j] += a[i * hd + k] * a[j * hd + k];      // A·Aᵀ + 0.1·I
                    }
                }
                spd[0][i * hd + i] += 0.1;
            }
            Aespa.Options o = Aespa.Options.QKV.withIterations(300);
            byte[] layerWise = Aespa.quantize(w, 1, hd, cols, h, null, s, o).codes();
            assertArrayEquals(layerWise, Aespa.quantize(w, 1, hd, cols, h, identity, s, o).codes(), "try " + t);
            if (!java.util.Arrays.equals(layerWise, Aespa.quantize(w, 1, hd, cols, h, spd, s, o).codes())) {
                differ++;
            }
        }
        assertTrue(differ > 0, "a non-identity row factor never changed a code: the factor would be unused");
    }
}
