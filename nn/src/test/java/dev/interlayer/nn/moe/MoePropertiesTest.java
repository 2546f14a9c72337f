package dev.interlayer.nn.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.RandomLayers;
import dev.interlayer.nn.Runs;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Invariants of top-k MoE layers and their router statistics on seeded random weights. */
class MoePropertiesTest {
    static float[] run(FeedForward f, Tensor x) {
        Tensor y = Tensor.zeros(x.dim(0), x.dim(1));
        f.forward(x, y, f.newScratch(x.dim(0)));
        return y.toFloatArray();
    }

    @Test
    void oneExpertTopOneEqualsDenseFfn() {
        for (boolean norm : new boolean[] {false, true}) {
            RandomLayers r = new RandomLayers(0x1E1L);
            GatedMlp dense = r.swiGlu(12, 20);
            MoeFeedForward moe = new MoeFeedForward(new MoeConfig(12, 1, 1, norm, SharedExperts.NONE),
                    r.linear(1, 12), List.of(dense), null, null);
            Tensor x = r.input(7, 12);
            // softmax over one logit is exactly 1, so the expert output passes through unchanged up to the
            // rounding of two separately run (and possibly differently JIT-compiled) evaluations
            double err = Runs.maxAbs(run(moe, x), run(dense, x));
            assertTrue(err <= Runs.ROUNDING_TOL, "normTopK " + norm + ": " + err);
        }
    }

    @Test
    void permutingExpertsWithRouterRowsLeavesOutputUnchanged() {
        for (int i = 0; i < 8; i++) {
            long seed = 0x9E4L + i;
            RandomLayers r = new RandomLayers(seed);
            int e = 3 + r.nextInt(4), k = 1 + r.nextInt(e);
            SharedExperts sh = SharedExperts.values()[r.nextInt(3)];
            List<FeedForward> experts = new ArrayList<>();
            for (int j = 0; j < e; j++) {
                experts.add(r.swiGlu(12, 8));
            }
            Linear router = r.linear(e, 12);
            FeedForward shared = sh == SharedExperts.NONE ? null : r.swiGlu(12, 10);
            Linear gate = sh == SharedExperts.GATED ? r.linear(1, 12) : null;
            MoeConfig cfg = new MoeConfig(12, e, k, r.nextInt(2) == 0, sh);
            MoeFeedForward a = new MoeFeedForward(cfg, router, experts, shared, gate);
            int[] perm = new int[e];
            for (int j = 0; j < e; j++) {
                perm[j] = (j + 1 + i) % e;
            }
            Tensor rw = Tensor.zeros(e, 12);
            List<FeedForward> pe = new ArrayList<>();
            for (int j = 0; j < e; j++) {
                rw.select(0, j).copyFrom(router.weight().select(0, perm[j]));
                pe.add(experts.get(perm[j]));
            }
            MoeFeedForward b = new MoeFeedForward(cfg, new Linear(rw), pe, shared, gate);
            Tensor x = r.input(9, 12);
            // same experts, same weights, summed in a different order: float rounding only
            double err = Runs.maxAbs(run(a, x), run(b, x));
            assertTrue(err <= 1e-6, "seed " + seed + " E=" + e + " k=" + k + ": " + err);
        }
    }

    @Test
    void statsCountEverySlotAndDoNotChangeOutput() {
        RandomLayers r = new RandomLayers(0x57A7L);
        List<FeedForward> experts = new ArrayList<>();
        for (int j = 0; j < 5; j++) {
            experts.add(r.swiGlu(12, 8));
        }
        MoeFeedForward m = new MoeFeedForward(new MoeConfig(12, 5, 2, true, SharedExperts.NONE), r.linear(5, 12),
                experts, null, null);
        Tensor x = r.input(11, 12);
        MoeFeedForward.State st = m.newScratch(11);
        Tensor y1 = Tensor.zeros(11, 12), y2 = Tensor.zeros(11, 12);
        m.forward(x, y1, st);
        int sum = 0;
        for (int c : st.stats().tokensPerExpert()) {
            sum += c;
        }
        assertEquals(22, sum);
        assertTrue(st.stats().meanEntropy() > 0 && st.stats().meanEntropy() <= Math.log(5) + 1e-9);
        m.forward(x, y2, st);
        double err = Runs.maxAbs(y1.toFloatArray(), y2.toFloatArray());
        assertTrue(err <= Runs.ROUNDING_TOL, "second call differs by " + err);
        assertEquals(11, st.stats().tokens(), "stats are per call, not cumulative");
    }

    @Test
    void layerRules() {
        // Qwen2-MoE: decoder_sparse_step 2 → layers 1, 3 are MoE; mlp_only_layers excludes 3
        assertTrue(!MoeLayers.qwen(0, 8, 2, Set.of()) && MoeLayers.qwen(1, 8, 2, Set.of()));
        assertTrue(!MoeLayers.qwen(3, 8, 2, Set.of(3)) && !MoeLayers.qwen(1, 0, 1, Set.of()));
        // DeepSeek: first_k_dense_replace 1, moe_layer_freq 1
        assertTrue(!MoeLayers.deepSeek(0, 1, 1) && MoeLayers.deepSeek(1, 1, 1));
    }

    @Test
    void badConfigsAreRejected() {
        RandomLayers r = new RandomLayers(1);
        var e = assertThrows(IllegalArgumentException.class, () -> new MoeConfig(12, 4, 5, true, SharedExperts.NONE));
        assertTrue(e.getMessage().contains("topK"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> new MoeFeedForward(
                new MoeConfig(12, 2, 1, true, SharedExperts.NONE), r.linear(2, 12), List.of(r.swiGlu(12, 8)), null,
                null));
        assertTrue(e2.getMessage().contains("numExperts"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> new MoeFeedForward(
                new MoeConfig(12, 1, 1, true, SharedExperts.NONE), r.linear(3, 12), List.of(r.swiGlu(12, 8)), null,
                null));
        assertTrue(e3.getMessage().contains("router"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> new MoeFeedForward(
                new MoeConfig(12, 1, 1, true, SharedExperts.GATED), r.linear(1, 12), List.of(r.swiGlu(12, 8)),
                r.swiGlu(12, 8), null));
        assertTrue(e4.getMessage().contains("sharedGate"), e4.getMessage());
    }
}
