package dev.interlayer.nn.crosslayer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.Linear;
import dev.interlayer.nn.Norm;
import dev.interlayer.nn.RmsNorm;
import dev.interlayer.nn.plan.ResearchFixture;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * MUDDFormer against crosslayer.json in prefill and decode (1e-4 absolute, F32 vs float64), and its invariants:
 * static one-hot weights with the block's own norm equal the Pre-LN model; swapping the Q and K rows changes it.
 */
class MuddFormerTest {
    private static final ResearchFixture M = CrossLayerFixture.MODEL;
    private static final float EPS = 1e-5f;

    @Test
    void matchesTheReference() {
        List<MuddFormer.Dense> dense = new ArrayList<>();
        List<Norm[]> norms = new ArrayList<>();
        for (int i = 0; i < M.layers; i++) {
            dense.add(new MuddFormer.Dense(new Linear(CrossLayerFixture.w("mudd." + i + ".w1")),
                    new Linear(CrossLayerFixture.w("mudd." + i + ".w2")), CrossLayerFixture.w("mudd." + i + ".b")
                    .toFloatArray()));
            norms.add(i == 0 ? null : new Norm[] {norm(i, 0), norm(i, 1), norm(i, 2)});
        }
        MuddFormer mudd = new MuddFormer(M.stack, dense, norms, EPS);
        double[] want = ResearchFixture.doubles(CrossLayerFixture.find("muddformer").get("out"));
        for (int[] schedule : CrossLayerGoldenTest.SCHEDULES) {
            double err = ResearchFixture.maxAbs(run(mudd, schedule), want);
            System.out.printf("muddformer %-22s max abs err %.3e%n", Arrays.toString(schedule), err);
            assertTrue(err <= 1e-4, Arrays.toString(schedule) + ": " + err);
        }
    }

    @Test
    void staticOneHotWeightsArePreLnAndStreamRolesMatter() {
        float[] plain = M.stack.forward(M.tokens, M.stack.newSession(32, 8, false)).toFloatArray();
        MuddFormer oneHot = staticMudd(false);
        double err = ResearchFixture.maxAbs(run(oneHot, new int[] {3, 1, 1, 1, 1}), (
                plain));
        assertTrue(err <= 1e-5, "one-hot static MUDD vs Pre-LN: " + err);
        double diff = ResearchFixture.maxAbs(run(staticMudd(true), new int[] {7}), (
                plain));
        assertTrue(diff > 1e-3, "swapping the Q and K stream weights must change the output, diff " + diff);
    }

    // W2 = 0; B one-hot on the newest entry for every stream (or Q/K reading X_0 instead, when swapped);
    // the three norms are the block's own attention norm
    private static MuddFormer staticMudd(boolean perturbQk) {
        List<MuddFormer.Dense> dense = new ArrayList<>();
        List<Norm[]> norms = new ArrayList<>();
        for (int i = 0; i < M.layers; i++) {
            int c = i < M.layers - 1 ? 4 : 1, n = i + 2;
            float[] b = new float[c * n];
            for (int st = 0; st < c; st++) {
                b[st * n + n - 1] = 1f;
            }
            if (perturbQk && c == 4) {
                b[n - 1] = 0.5f;   // Q stream: half newest, half X_0; K stream keeps the newest only
                b[0] = 0.5f;
            }
            dense.add(new MuddFormer.Dense(new Linear(Tensor.zeros(8, M.hidden)), new Linear(Tensor.zeros(c * n, 8)), b));
            Norm own = M.stack.blocks().get(i).attnIn();
            norms.add(new Norm[] {own, own, own});
        }
        return new MuddFormer(M.stack, dense, norms, EPS);
    }

    private static Norm norm(int i, int j) {
        return new RmsNorm(CrossLayerFixture.w("mudd." + i + ".norm" + j), EPS);
    }

    private static float[] run(MuddFormer mudd, int[] schedule) {
        MuddFormer.Session s = mudd.newSession(32, 8);
        return ResearchFixture.run(M.tokens, schedule, M.hidden, c -> mudd.forward(c, s));
    }
}
