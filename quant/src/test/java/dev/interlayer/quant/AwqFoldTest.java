package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * AWQ's folds into the producing linear's rows. Against reference/quant-ptq/gen_awq_fold.py (PyTorch float64,
 * which also checks there that each fold leaves the float function unchanged): o's input under GQA with the
 * statistic tied per kv head, and the FFN hidden; same tied statistic and scales (1e-12 relative: the same
 * means summed in a different order, then Math.pow vs torch.pow), same exponent, identical codes and float32
 * scales, loss to 1e-9 relative (as {@link AwqTest}), and the producer's row divisors. Then the properties that
 * make {@link QuantizedLinear#scaleRows} a fold: scaling rows by powers of two gives exactly the quantization of
 * the scaled rows, and any positive factor changes each dequantized weight by that factor up to the scale's
 * storage rounding.
 */
class AwqFoldTest {
    @Test
    void matchesReference() {
        Golden.forEachCase("awq_fold.json", 5, c -> {
            String name = c.get("name").getAsString();
            int d = c.get("cols").getAsInt(), tokens = c.get("n").getAsInt();
            int heads = c.get("heads").getAsInt(), kv = c.get("kvHeads").getAsInt(), hd = c.get("headDim").getAsInt();
            ActivationStats stats = new ActivationStats(d);
            stats.accept(Golden.floats(c, "x"), tokens, null);
            HessianAccumulator h = new HessianAccumulator(d);
            h.accept(Golden.floats(c, "x"), tokens, null);
            double[] tied = c.get("site").getAsString().equals("attn_output")
                    ? Awq.tiedMeanAbs(stats.meanAbs(), heads, kv, hd) : stats.meanAbs();
            assertClose(Golden.doubles(c, "tied_mean_abs"), tied, 1e-12, name + " statistic");
            int[] rows = Golden.ints(c, "rows");
            Awq.Result r = Awq.quantize(Golden.floatRows(c, "w"), rows, d, tied, h.hessian(), Golden.scheme(c),
                    Awq.Options.DEFAULT.withClip(c.get("awqClip").getAsBoolean()));
            assertEquals(c.get("alpha").getAsDouble(), r.alpha(), 0.0, name + " alpha");
            assertEquals(c.get("loss").getAsDouble(), r.loss(), 1e-9 * c.get("loss").getAsDouble(), name + " loss");
            assertClose(Golden.doubles(c, "scales_in"), r.inputScales(), 1e-12, name + " input scales");
            double[] divisors = heads == kv && c.get("site").getAsString().equals("ffn_down") ? r.inputScales()
                    : Awq.kvRowScales(r.inputScales(), heads, kv, hd);
            assertClose(Golden.doubles(c, "producer_row_divisors"), divisors, 1e-12, name + " producer rows");
            JsonObject out = c.getAsJsonArray("out").get(0).getAsJsonObject().deepCopy();
            out.add("name", new JsonPrimitive(name));
            Golden.assertSame(out, r.weights().get(0));
        });
    }

    @Test
    void tyingPoolsTheQueryHeadsOfOneKvHead() {
        double[] m = {1, 2, 3, 4, 5, 6, 7, 8};                // heads 4 × headDim 2, kv heads 2: heads {0,1}, {2,3}
        assertArrayEquals(new double[] {2, 3, 2, 3, 6, 7, 6, 7}, Awq.tiedMeanAbs(m, 4, 2, 2), 0.0);
        assertArrayEquals(m, Awq.tiedMeanAbs(m, 4, 4, 2), 0.0, "no GQA: nothing tied");
        assertArrayEquals(new double[] {2, 3, 6, 7}, Awq.kvRowScales(Awq.tiedMeanAbs(m, 4, 2, 2), 4, 2, 2), 0.0);
        var e = assertThrows(IllegalArgumentException.class, () -> Awq.kvRowScales(m, 4, 2, 2));
        assertTrue(e.getMessage().contains("kv head 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Awq.tiedMeanAbs(m, 3, 2, 2));
        assertTrue(e.getMessage().contains("kvHeads"), e.getMessage());
    }

    /** Powers of two scale float32 weights, fp16 scales and offsets exactly: the same codes, scales times f. */
    @Test
    void scalingRowsByPowersOfTwoEqualsQuantizingTheScaledRows() {
        for (int t = 0; t < 30; t++) {
            var r = new SplittableRandom(8100 + t);
            int rows = 1 + r.nextInt(8), cols = 8 + r.nextInt(40);
            QuantScheme s0 = Rand.scheme(r);
            QuantScheme s = new QuantScheme(s0.kind(), s0.bits(), s0.groupSize(), s0.clip(),
                    t % 2 == 0 ? QuantScheme.ScaleFormat.F16 : QuantScheme.ScaleFormat.F32);
            float[] w = Rand.weights(r, rows, cols);
            double[] f = new double[rows];
            float[] scaled = new float[w.length];
            for (int i = 0; i < rows; i++) {
                f[i] = Math.scalb(1.0, r.nextInt(7) - 3);
                for (int c = 0; c < cols; c++) {
                    scaled[i * cols + c] = (float) (w[i * cols + c] * f[i]);
                }
            }
            assertEquals(Rtn.quantize(scaled, rows, cols, s), Rtn.quantize(w, rows, cols, s).scaleRows(f), "try " + t + " " + s);
        }
    }

    /** Any positive factor: each dequantized weight is f[r] times the old one, up to one rounding of its scale. */
    @Test
    void scalingRowsScalesTheDequantizedRows() {
        var r = new SplittableRandom(8200);
        QuantScheme s = new QuantScheme(GridKind.ASYM_OFFSET, 4, 32, ClipSearch.NONE, QuantScheme.ScaleFormat.F16);
        int rows = 6, cols = 64;
        float[] w = Rand.weights(r, rows, cols);
        QuantizedLinear q = Rtn.quantize(w, rows, cols, s);
        double[] f = new double[rows];
        for (int i = 0; i < rows; i++) {
            f[i] = Math.exp(r.nextGaussian());
        }
        QuantizedLinear g = q.scaleRows(f);
        assertArrayEquals(q.codes(), g.codes());
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) {
                // d and m each carry one fp16 rounding (2^-11 relative) of a value no larger than the group's range
                double want = f[i] * q.value(i, c), range = f[i] * 16 * Math.abs(q.scales()[i * 2 + c / 32]);
                double m = f[i] * Math.abs(q.zeros()[i * 2 + c / 32]);
                assertEquals(want, g.value(i, c), Math.scalb(range + m, -10), "row " + i + " col " + c);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> q.scaleRows(new double[rows - 1]));
        assertThrows(IllegalArgumentException.class, () -> q.scaleRows(new double[rows]));
    }

    private static void assertClose(double[] want, double[] got, double rel, String what) {
        assertEquals(want.length, got.length, what + " length");
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], rel * Math.abs(want[i]), what + " " + i);
        }
    }
}
