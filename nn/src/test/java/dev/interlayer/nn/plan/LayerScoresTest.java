package dev.interlayer.nn.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.tensor.testing.JsonArrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pruning scores against research.json (two calibration samples): angular distances D_n for n = 1, 2, 3, block
 * influence, attention and MLP importance. Tolerance 1e-5: the scores are cosines of F32 streams whose error vs
 * float64 is ~1e-6, and arccos near 1 amplifies it little at these angles.
 */
class LayerScoresTest {
    private static final ResearchFixture F = ResearchFixture.load();

    @Test
    void scoresMatchTheReference() {
        List<LayerScores.Streams> samples = List.of(LayerScores.streams(F.stack, F.tokens),
                LayerScores.streams(F.stack, F.corrupt));
        JsonObject ang = F.json.getAsJsonObject("angular");
        for (int n = 1; n <= 3; n++) {
            double[] want = JsonArrays.doubles(ang.getAsJsonArray(String.valueOf(n)));
            double[] got = LayerScores.angularDistances(samples, n);
            assertClose(want, got, "D_" + n);
            for (double v : got) {
                assertTrue(v >= 0 && v <= 1, "angular distance outside [0, 1]: " + v);
            }
            System.out.printf("D_%d = %s, prune from layer %d%n", n, java.util.Arrays.toString(got),
                    LayerScores.bestBlockStart(got));
        }
        assertClose(JsonArrays.doubles(F.json.getAsJsonArray("block_influence")),
                LayerScores.blockInfluence(samples), "BI");
        assertClose(JsonArrays.doubles(F.json.getAsJsonArray("attn_importance")),
                LayerScores.attentionImportance(samples), "attention importance");
        assertClose(JsonArrays.doubles(F.json.getAsJsonArray("mlp_importance")),
                LayerScores.mlpImportance(samples), "mlp importance");
    }

    @Test
    void selectionHelpers() {
        assertEquals(2, LayerScores.bestBlockStart(new double[] {0.3, 0.2, 0.1, 0.4}));
        assertArrayEquals(new int[] {2, 0}, LayerScores.lowest(new double[] {0.2, Double.NaN, 0.1, 0.5}, 2));
        float[] a = {1, 2, 3}, b = {2, 4, 6}, c = {-1, -2, -3};
        assertEquals(0, LayerScores.angular(a, 0, b, 0, 3), 1e-7);   // positive multiple: distance 0
        assertEquals(1, LayerScores.angular(a, 0, c, 0, 3), 1e-7);   // opposite: distance 1
    }

    private static void assertClose(double[] want, double[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5, what + "[" + i + "]");
        }
    }
}
