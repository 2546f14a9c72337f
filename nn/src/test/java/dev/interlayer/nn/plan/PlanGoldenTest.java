package dev.interlayer.nn.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Execution plans against research.json (float64 PyTorch, reference/research/research_reference.py): identity,
 * Painters skip / middle_repeat / reverse / parallel / looped parallel, attention-only and MLP-only drops,
 * LayerDrop keep-list; each as one prefill, token by token, and prefill-then-decode (decode equals recompute).
 * Tolerance 1e-4 absolute on N_f(x) (F32 kernels vs float64; observed errors are ~1e-6).
 */
class PlanGoldenTest {
    private static final ResearchFixture F = ResearchFixture.load();

    @Test
    void everyPlanMatchesTheReferenceInPrefillAndDecode() {
        JsonArray plans = F.json.getAsJsonArray("plans");
        double atol = F.json.get("atol").getAsDouble();
        for (int i = 0; i < plans.size(); i++) {
            JsonObject c = plans.get(i).getAsJsonObject();
            ExecutionPlan plan = ExecutionPlan.parse(c.get("plan").getAsString());
            double[] expected = ResearchFixture.doubles(c.get("out"));
            PlannedStack ps = new PlannedStack(F.stack, plan);
            for (int[] schedule : new int[][] {{7}, {1, 1, 1, 1, 1, 1, 1}, {3, 1, 1, 1, 1}}) {
                double err = ResearchFixture.maxAbs(run(ps, F.tokens, schedule), expected);
                System.out.printf("plan %-28s schedule %-22s max abs err %.3e%n", plan, Arrays.toString(schedule), err);
                assertTrue(err <= atol, plan + " " + Arrays.toString(schedule) + ": " + err);
            }
        }
    }

    @Test
    void factoriesProduceTheReferencePlans() {
        JsonArray plans = F.json.getAsJsonArray("plans");
        int n = F.layers;
        ExecutionPlan[] factories = {ExecutionPlan.identity(n), ExecutionPlan.skip(n, 1),
            ExecutionPlan.middleRepeat(n, 1), ExecutionPlan.reverse(n, 1), ExecutionPlan.parallel(n, 1),
            ExecutionPlan.loopedParallel(n, 1, 2), ExecutionPlan.dropSublayers(n, new int[] {1, 4}, new int[] {2}),
            ExecutionPlan.layersToKeep(n, 0, 2, 4)};
        for (int i = 0; i < factories.length; i++) {
            String expected = plans.get(i).getAsJsonObject().get("plan").getAsString();
            assertEquals(expected, factories[i].toString());
            assertEquals(factories[i], ExecutionPlan.parse(expected), "parse(" + expected + ")");
        }
    }

    static float[] run(PlannedStack ps, int[] tokens, int[] schedule) {
        PlanSession s = ps.newSession(32, 8);
        return ResearchFixture.run(tokens, schedule, ps.hidden(), c -> c.length == 1 ? ps.decode(c[0], s)
                : ps.forward(c, s));
    }
}
