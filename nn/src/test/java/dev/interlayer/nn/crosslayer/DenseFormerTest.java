package dev.interlayer.nn.crosslayer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.PlanSession;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.plan.ResearchFixture;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * DenseFormer DWA against crosslayer.json (package and experiment modes, periods 1-3, dilations 1-2) in prefill,
 * token-by-token decode and prefill-then-decode; tolerance 1e-4 absolute (F32 vs float64). Invariant: identity
 * weights equal the plain model.
 */
class DenseFormerTest {
    private static final ResearchFixture M = CrossLayerFixture.MODEL;
    private final PlannedStack ps = new PlannedStack(M.stack, ExecutionPlan.identity(M.layers));

    @Test
    void matchesTheReference() {
        for (String name : new String[] {"dwa_p1_k1_package", "dwa_p2_k2_package", "dwa_p2_k1_experiment",
            "dwa_p3_k2_experiment"}) {
            JsonObject c = CrossLayerFixture.find(name);
            JsonObject cfg = c.getAsJsonObject("dwa");
            DenseFormer dwa = new DenseFormer(M.layers, cfg.get("period").getAsInt(), cfg.get("dilation").getAsInt(),
                    DenseFormer.Mode.valueOf(cfg.get("mode").getAsString().toUpperCase()),
                    CrossLayerFixture.matrix(cfg.getAsJsonArray("weights")));
            double[] want = ResearchFixture.doubles(c.get("out"));
            for (int[] schedule : new int[][] {{7}, {1, 1, 1, 1, 1, 1, 1}, {3, 1, 1, 1, 1}}) {
                double err = ResearchFixture.maxAbs(run(dwa, schedule), want);
                System.out.printf("%-24s %-22s max abs err %.3e%n", name, Arrays.toString(schedule), err);
                assertTrue(err <= 1e-4, name + " " + Arrays.toString(schedule) + ": " + err);
            }
        }
    }

    @Test
    void identityWeightsEqualThePlainModel() {
        float[] plain = ps.forward(M.tokens, ps.newSession(32, 8)).toFloatArray();
        for (DenseFormer.Mode mode : DenseFormer.Mode.values()) {
            for (int p : new int[] {1, 2, 3}) {
                for (int k : new int[] {1, 2, 4}) {
                    float[] got = run(DenseFormer.identity(M.layers, p, k, mode), new int[] {7});
                    double err = ResearchFixture.maxAbs(got, (plain));
                    // 1·x + 0·y is exact; 1e-6 only absorbs JIT-dependent reduction order between the two runs
                    assertTrue(err <= 1e-6, mode + " p=" + p + " k=" + k + ": " + err);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new DenseFormer(6, 4, 1, DenseFormer.Mode.EXPERIMENT,
                new float[0][]));
        assertThrows(IllegalArgumentException.class, () -> new DenseFormer(6, 1, 1, DenseFormer.Mode.PACKAGE,
                new float[6][1]));
    }

    private float[] run(DenseFormer dwa, int[] schedule) {
        PlanSession s = ps.newSession(32, 8);
        s.setHook(dwa.newHook(8, M.hidden));
        return ResearchFixture.run(M.tokens, schedule, M.hidden, c -> ps.forward(c, s));
    }

}
