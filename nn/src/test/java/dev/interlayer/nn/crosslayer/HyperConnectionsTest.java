package dev.interlayer.nn.crosslayer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.plan.ResearchFixture;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Static hyper-connections (n = 2) against crosslayer.json in prefill and decode (1e-4 absolute: F32 vs float64,
 * plus the one rounding of out = Sublayer(h_in) − h_in); invariant: the paper's initialization gives streams equal
 * to the Pre-LN stream, so after the scale-invariant final norm the output equals the plain model's (up to ε).
 */
class HyperConnectionsTest {
    private static final ResearchFixture M = CrossLayerFixture.MODEL;

    @Test
    void matchesTheReference() {
        int n = 2, subs = 2 * M.layers;
        float[][] am = new float[subs][], ar = new float[subs][], b = new float[subs][];
        for (int k = 0; k < subs; k++) {
            am[k] = CrossLayerFixture.w("hc." + k + ".am").toFloatArray();
            ar[k] = CrossLayerFixture.w("hc." + k + ".ar").toFloatArray();
            b[k] = CrossLayerFixture.w("hc." + k + ".b").toFloatArray();
        }
        HyperConnections hc = new HyperConnections(M.stack, n, am, ar, b);
        double[] want = ResearchFixture.doubles(CrossLayerFixture.find("hyper_connections").get("out"));
        for (int[] schedule : CrossLayerGoldenTest.SCHEDULES) {
            double err = ResearchFixture.maxAbs(run(hc, schedule), want);
            System.out.printf("hyper_connections %-22s max abs err %.3e%n", Arrays.toString(schedule), err);
            assertTrue(err <= 1e-4, Arrays.toString(schedule) + ": " + err);
        }
        assertThrows(IllegalArgumentException.class, () -> new HyperConnections(M.stack, 3, am, ar, b));
    }

    @Test
    void initialisationIsThePreLnModel() {
        float[] plain = M.stack.forward(M.tokens, M.stack.newSession(32, 8, false)).toFloatArray();
        for (int n : new int[] {1, 2, 3}) {
            float[] got = run(HyperConnections.initial(M.stack, n), new int[] {3, 1, 1, 1, 1});
            double err = ResearchFixture.maxAbs(got, (plain));
            // n·x_L through RMSNorm differs from x_L only through ε = 1e-5 against mean(x²) = O(1)
            assertTrue(err <= 1e-4, "n = " + n + ": " + err);
        }
    }

    private static float[] run(HyperConnections hc, int[] schedule) {
        HyperConnections.Session s = hc.newSession(32, 8);
        return ResearchFixture.run(M.tokens, schedule, M.hidden, c -> hc.forward(c, s));
    }
}
