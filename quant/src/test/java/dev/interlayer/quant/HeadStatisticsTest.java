package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import dev.interlayer.tensor.testing.JsonArrays;
import org.junit.jupiter.api.Test;

/**
 * Per-head statistics against reference/quant-ptq/gen_heads.py (float64 torch; rotation matrices built by
 * applying HF's rotate_half / GPT-J's rotate_every_two to the identity, full and partial rotary): C_h and
 * mean_t R_tᵀ·C_h·R_t to 1e-12 relative to the largest entry (summation order differs). Also the GQA mean.
 */
class HeadStatisticsTest {
    @Test
    void matchesReference() {
        Golden.forEachCase("heads.json", 3, c -> {
            int heads = c.get("heads").getAsInt(), hd = c.get("headDim").getAsInt(), n = c.get("n").getAsInt();
            boolean[] keep = Golden.bools(c, "keep");
            HeadStatistics st = new HeadStatistics(heads, hd);
            st.accept(Golden.floats(c, "v"), Golden.ints(c, "pos"), n, keep);
            var rot = new HeadStatistics.Rotation(c.get("interleaved").getAsBoolean(), Golden.doubles(c, "invFreq"));
            for (int h = 0; h < heads; h++) {
                assertClose(nested(c, "covariance", h), st.covariance(h), c.get("name") + " C" + h);
                assertClose(nested(c, "weightSpace", h), st.weightSpace(h, rot), c.get("name") + " G" + h);
            }
        });
    }

    @Test
    void groupMeanAveragesConsecutiveHeads() {
        double[][] g = HeadStatistics.groupMean(new double[][] {{1, 2}, {3, 6}, {5, 5}, {7, 9}}, 2);
        assertEquals(2, g.length);
        assertEquals(2.0, g[0][0], 1e-15);
        assertEquals(4.0, g[0][1], 1e-15);
        assertEquals(6.0, g[1][0], 1e-15);
        assertEquals(7.0, g[1][1], 1e-15);
    }

    private static double[] nested(JsonObject c, String key, int h) {
        return JsonArrays.doubles(c.getAsJsonArray(key).get(h).getAsJsonArray());
    }

    private static void assertClose(double[] want, double[] got, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (double w : want) {
            scale = Math.max(scale, Math.abs(w));
        }
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-12 * scale, what + "[" + i + "]");
        }
    }
}
