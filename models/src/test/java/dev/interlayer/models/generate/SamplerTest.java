package dev.interlayer.models.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {

    @Test
    void greedyIsArgmaxLowestOnTies() {
        assertEquals(1, Sampler.greedy().start(4).pick(new float[] {0, 3, 3, -1}));
        assertEquals(0, new Sampler.Stochastic(0f, 0, 1f, 0f, 1).start(3).pick(new float[] {5, 1, 2}));
    }

    @Test
    void filtersThatKeepOneTokenAreGreedy() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            float[] logits = new float[50];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) r.nextGaussian() * 3;
            }
            int best = Sampler.Greedy.argmax(logits);
            String ctx = "seed 7 trial " + trial;
            assertEquals(best, new Sampler.Stochastic(1f, 1, 1f, 0f, trial).start(50).pick(logits), ctx);
            assertEquals(best, new Sampler.Stochastic(1f, 0, 1e-6f, 0f, trial).start(50).pick(logits), ctx);
            assertEquals(best, new Sampler.Stochastic(1e-3f, 0, 1f, 0f, trial).start(50).pick(logits), ctx);
        }
    }

    @Test
    void frequenciesFollowTheDistribution() {
        // logits (0, ln 3): p = (1/4, 3/4). 20000 draws: sd of the frequency is sqrt(p(1-p)/n) ≈ 0.0031; allow 4 sd.
        Sampler.Picker p = new Sampler.Stochastic(1f, 0, 1f, 0f, 42L).start(2);
        float[] logits = {0f, (float) Math.log(3)};
        int ones = 0, n = 20000;
        for (int i = 0; i < n; i++) {
            ones += p.pick(logits);
        }
        assertEquals(0.75, ones / (double) n, 0.0125);
        // temperature 2 flattens: p1 = sqrt(3)/(1+sqrt(3)) ≈ 0.634
        Sampler.Picker hot = new Sampler.Stochastic(2f, 0, 1f, 0f, 43L).start(2);
        ones = 0;
        for (int i = 0; i < n; i++) {
            ones += hot.pick(logits);
        }
        assertEquals(Math.sqrt(3) / (1 + Math.sqrt(3)), ones / (double) n, 0.014);
    }

    @Test
    void topPAndMinPDropTheTail() {
        // p ∝ (8, 4, 2, 1)/15; topP 0.75 keeps {0, 1} (8/15 < 0.75 <= 12/15); minP 0.3 keeps p >= 0.3·8/15 -> {0, 1}
        float[] logits = {(float) Math.log(8), (float) Math.log(4), (float) Math.log(2), 0f};
        Sampler.Picker top = new Sampler.Stochastic(1f, 0, 0.75f, 0f, 5L).start(4);
        Sampler.Picker min = new Sampler.Stochastic(1f, 0, 1f, 0.3f, 5L).start(4);
        Sampler.Picker k2 = new Sampler.Stochastic(1f, 2, 1f, 0f, 5L).start(4);
        for (int i = 0; i < 2000; i++) {
            assertTrue(top.pick(logits) <= 1);
            assertTrue(min.pick(logits) <= 1);
            assertTrue(k2.pick(logits) <= 1);
        }
    }

    @Test
    void sameSeedSameSequence() {
        float[] logits = new float[100];
        for (int i = 0; i < 100; i++) {
            logits[i] = (float) Math.sin(i);
        }
        Sampler s = new Sampler.Stochastic(1f, 20, 0.9f, 0.01f, 77L);
        Sampler.Picker a = s.start(100), b = s.start(100);
        for (int i = 0; i < 100; i++) {
            assertEquals(a.pick(logits), b.pick(logits));
        }
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Stochastic(-1f, 0, 1f, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Stochastic(1f, -1, 1f, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Stochastic(1f, 0, 0f, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Stochastic(1f, 0, 1f, 1f, 0));
    }

    @Test
    void logitsWithNothingToDrawFailClearly() {
        Sampler.Picker p = new Sampler.Stochastic(1f, 0, 1f, 0f, 1).start(3);
        assertThrows(IllegalStateException.class, () -> p.pick(new float[] {Float.NaN, Float.NaN, Float.NaN}));
        float ninf = Float.NEGATIVE_INFINITY;
        assertThrows(IllegalStateException.class, () -> p.pick(new float[] {ninf, ninf, ninf}));
    }

    @Test
    void topKSelectionKeepsTheSameSetAsAFullSort() {
        java.util.Random r = new java.util.Random(7);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + r.nextInt(300), k = 1 + r.nextInt(n);
            float[] prob = new float[n];
            for (int i = 0; i < n; i++) {
                prob[i] = r.nextInt(20) / 20f;    // many ties: the id order must decide them the same way
            }
            int[] full = java.util.stream.IntStream.range(0, n).toArray();
            Sampler.Stochastic.sortDescending(full, n, prob);
            int[] sel = java.util.stream.IntStream.range(0, n).toArray();
            Sampler.Stochastic.sortDescending(sel, Sampler.Stochastic.selectTop(sel, n, k, prob), prob);
            assertArrayEquals(java.util.Arrays.copyOf(full, k), java.util.Arrays.copyOf(sel, k), "n " + n + " k " + k);
        }
    }
}
