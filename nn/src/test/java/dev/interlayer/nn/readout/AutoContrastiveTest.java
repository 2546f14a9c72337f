package dev.interlayer.nn.readout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonObject;
import dev.interlayer.nn.plan.ResearchFixture;
import dev.interlayer.tensor.testing.JsonArrays;
import org.junit.jupiter.api.Test;

/** ACD against the specification's float64 test vector and its invariants. */
class AutoContrastiveTest {
    /**
     * The specification's example against PyTorch float64 (research.json, 1e-12: both compute in double). The
     * specification's printed vector (−1.74293089, −0.24293058, −3.51559424, −4.51559401) differs from an
     * independent float64 computation by up to 3.4e-7, so it is checked at 1e-6 only.
     */
    @Test
    void specificationVector() {
        JsonObject c = ResearchFixture.load().json.getAsJsonObject("acd");
        float[] upper = JsonArrays.floats(c.getAsJsonArray("upper"));
        float[] lower = JsonArrays.floats(c.getAsJsonArray("lower"));
        double[] got = AutoContrastive.logProbs(upper, lower, c.get("alpha").getAsDouble(), 1);
        assertArrayEquals(JsonArrays.doubles(c.getAsJsonArray("log_probs")), got, 1e-12);
        assertArrayEquals(new double[] {-1.74293089, -0.24293058, -3.51559424, -4.51559401}, got, 1e-6);
        assertEquals(1, sumExp(got), 1e-12);
    }

    @Test
    void invariants() {
        float[] u = {0.3f, 2f, -1f, 1.7f, 0f}, l = {1f, 0.5f, 0f, 2f, -3f};
        assertEquals(1, sumExp(AutoContrastive.logProbs(u, l, 0.1, 1)), 1e-12);
        // α ≥ 1 with m = 1: A = {argmax} ⇒ p_acd = p_u
        assertArrayEquals(AutoContrastive.logSoftmax(u), AutoContrastive.logProbs(u, l, 1.0, 1), 1e-12);
        // lower = upper: the mass inside A is spread uniformly
        double[] same = AutoContrastive.logProbs(u, u, 0.5, 1);
        double[] pu = AutoContrastive.logSoftmax(u);
        double inA = Math.exp(pu[1]) + Math.exp(pu[3]);        // p ≥ 0.5·max: tokens 1 and 3
        assertEquals(Math.log(inA / 2), same[1], 1e-12);
        assertEquals(Math.log(inA / 2), same[3], 1e-12);
        assertEquals(pu[0], same[0], 1e-12);
        assertThrows(IllegalArgumentException.class, () -> AutoContrastive.logProbs(u, new float[2], 0.1, 1));
    }

    private static double sumExp(double[] lp) {
        double s = 0;
        for (double v : lp) {
            s += Math.exp(v);
        }
        return s;
    }
}
