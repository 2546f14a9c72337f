package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Calibration statistics against reference/quant-ptq/gen_calib.py (float64 torch on the same float32 rows and
 * padding masks, fed in two batches): the Hessian, mean |x| and mean x² to 1e-12 relative (different summation
 * order), and the legacy imatrix.dat file parsed back field by field (float32 values to 1e-6 relative).
 */
class CalibrationTest {
    @Test
    void statisticsAndImatrixMatchReference() throws IOException {
        JsonObject c = Golden.cases("calib.json").get(0);
        int d = c.get("d").getAsInt();
        CalibrationStats stats = new CalibrationStats(true);
        ActivationStats even = new ActivationStats(d), odd = new ActivationStats(d), empty = new ActivationStats(d);
        int kept = 0;
        for (var b : c.getAsJsonArray("batches")) {
            JsonObject bo = b.getAsJsonObject();
            int n = bo.get("n").getAsInt();
            float[] x = Golden.floats(bo, "x");
            boolean[] keep = Golden.bools(bo, "keep");
            stats.accept("blk.0.attn_q.weight", x, n, d, keep);
            for (int t = 0; t < n; t++) {                // route kept rows alternately to two experts
                if (keep[t]) {
                    float[] row = java.util.Arrays.copyOfRange(x, t * d, (t + 1) * d);
                    (kept++ % 2 == 0 ? even : odd).accept(row, 1, null);
                }
            }
        }
        assertEquals(c.get("count").getAsLong(), stats.hessian("blk.0.attn_q.weight").count());
        assertClose(Golden.doubles(c, "hessian"), stats.hessian("blk.0.attn_q.weight").hessian(), 1e-12, "H");
        // one row per call (short encoder sequences): rows wait in a partial tile, same reference
        HessianAccumulator single = new HessianAccumulator(d);
        for (var b : c.getAsJsonArray("batches")) {
            JsonObject bo = b.getAsJsonObject();
            float[] x = Golden.floats(bo, "x");
            for (int t = 0; t < bo.get("n").getAsInt(); t++) {
                if (bo.getAsJsonArray("keep").get(t).getAsBoolean()) {
                    single.accept(java.util.Arrays.copyOfRange(x, t * d, (t + 1) * d), 1, null);
                }
            }
        }
        assertEquals(c.get("count").getAsLong(), single.count());
        assertClose(Golden.doubles(c, "hessian"), single.hessian(), 1e-12, "H from single rows");
        ActivationStats q = stats.activations().get("blk.0.attn_q.weight");
        assertClose(Golden.doubles(c, "meanAbs"), q.meanAbs(), 1e-12, "mean |x|");
        assertClose(Golden.doubles(c, "meanSquare"), q.meanSquare(), 1e-12, "mean x²");

        JsonObject im = c.getAsJsonObject("imatrix");
        Map<String, List<ActivationStats>> entries = new LinkedHashMap<>();
        entries.put("blk.0.attn_q.weight", List.of(q));
        entries.put("blk.0.ffn_up_exps.weight", List.of(even, odd, empty));
        entries.put("blk.0.unused.weight", List.of(new ActivationStats(d)));   // no data: skipped
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImatrixWriter.writeDat(out, entries, c.get("chunk").getAsInt(), im.get("dataset").getAsString());
        ByteBuffer b = ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        JsonArray want = im.getAsJsonArray("entries");
        assertEquals(want.size(), b.getInt(), "n_entries");
        for (var e : want) {
            JsonObject eo = e.getAsJsonObject();
            assertEquals(eo.get("name").getAsString(), string(b), "name");
            assertEquals(eo.get("ncall").getAsInt(), b.getInt(), "ncall");
            double[] vals = Golden.doubles(eo, "values");
            assertEquals(vals.length, b.getInt(), "nval");
            for (int i = 0; i < vals.length; i++) {
                assertEquals(vals[i], b.getFloat(), 1e-6 * vals[i], eo.get("name").getAsString() + " value " + i);
            }
        }
        assertEquals(im.get("lastChunk").getAsInt(), b.getInt(), "last chunk");
        assertEquals(im.get("dataset").getAsString(), string(b), "dataset");
        assertEquals(0, b.remaining(), "trailing bytes");
    }

    @Test
    void badInputIsNamed() {
        CalibrationStats s = new CalibrationStats(false);
        s.accept("a", new float[8], 2, 4, null);
        var e = assertThrows(IllegalArgumentException.class, () -> s.accept("a", new float[6], 2, 3, null));
        assertEquals(true, e.getMessage().contains("'a'") && e.getMessage().contains("4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.hessian("a"));
        assertThrows(IllegalArgumentException.class, () -> new HessianAccumulator(3).accept(new float[5], 2, null));
        var g = assertThrows(IllegalArgumentException.class, () -> Gptq.quantize(new float[6], 2, 3, new double[4],
                QuantScheme.of(GridKind.SYM, 4, 0), GptqOptions.DEFAULT));
        assertEquals(true, g.getMessage().contains("H[3, 3]"), g.getMessage());
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[b.getInt()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static void assertClose(double[] want, double[] got, double rtol, String what) {
        assertEquals(want.length, got.length, what + " length");
        double scale = 0;
        for (double w : want) {
            scale = Math.max(scale, Math.abs(w));
        }
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], rtol * scale, what + "[" + i + "]");
        }
    }
}
