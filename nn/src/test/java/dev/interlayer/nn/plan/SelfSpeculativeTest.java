package dev.interlayer.nn.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.DecoderStack;
import dev.interlayer.tensor.testing.JsonArrays;
import org.junit.jupiter.api.Test;

/**
 * LayerSkip self-speculative decoding: greedy output is token-for-token the full model's greedy output for every
 * draft depth E and speculation count n; full-model greedy itself matches the float64 reference continuation.
 */
class SelfSpeculativeTest {
    private static final ResearchFixture F = ResearchFixture.load();

    @Test
    void fullGreedyMatchesTheReference() {
        int[] want = JsonArrays.ints(F.json.getAsJsonArray("greedy"));
        PlannedStack ps = new PlannedStack(F.stack, ExecutionPlan.identity(F.layers));
        assertArrayEquals(want, SelfSpeculativeDecoder.greedy(ps, F.head, F.tokens, want.length, -1, 32));
    }

    @Test
    void selfSpeculativeEqualsFullGreedyForEveryDraftDepth() {
        PlannedStack ps = new PlannedStack(F.stack, ExecutionPlan.identity(F.layers));
        int[] want = SelfSpeculativeDecoder.greedy(ps, F.head, F.tokens, 12, -1, 40);
        for (int e = 1; e <= F.layers; e++) {
            for (int n : new int[] {1, 3, 5}) {
                var dec = new SelfSpeculativeDecoder(ps, F.head, e, n, 40, 4);
                var r = dec.generate(F.tokens, 12, -1);
                assertArrayEquals(want, r.tokens(), "E = " + e + ", n = " + n);
                assertTrue(r.accepted() <= r.drafted() && r.rounds() >= (12 + n) / (n + 1));
                if (e == F.layers) {
                    assertEquals(1.0, r.acceptanceRate(), "E = L drafts with the full model");
                }
            }
        }
    }

    /**
     * LayerSkip invariant 2: after generation the draft layers' caches hold exactly the K/V of plain decoding over
     * the accepted tokens (nothing rejected leaks in). Different chunking than plain decoding, so 1e-5.
     */
    @Test
    void draftCachesEqualPlainDecodingCaches() {
        PlannedStack ps = new PlannedStack(F.stack, ExecutionPlan.identity(F.layers));
        var dec = new SelfSpeculativeDecoder(ps, F.head, 2, 3, 40, 8);
        int[] out = dec.generate(F.tokens, 9, -1).tokens();
        PlanSession plain = ps.newSession(40, 8);
        ps.forward(F.tokens, plain);
        for (int i = 0; i < out.length - 1; i++) {
            ps.decode(out[i], plain);
        }
        PlanSession spec = dec.session();
        for (int step = 0; step < F.layers; step++) {
            int n = plain.cacheLength(step);
            assertEquals(n, spec.cacheLength(step), "cache length of step " + step);
            int w = n * plain.cache(step).kvDim(0);
            assertTrue(ResearchFixture.maxAbs(java.util.Arrays.copyOf(spec.cache(step).keys(0), w),
                    java.util.Arrays.copyOf(plain.cache(step).keys(0), w)) <= 1e-5, "keys of step " + step);
            assertTrue(ResearchFixture.maxAbs(java.util.Arrays.copyOf(spec.cache(step).values(0), w),
                    java.util.Arrays.copyOf(plain.cache(step).values(0), w)) <= 1e-5, "values of step " + step);
        }
    }

    /** A stack whose late layers barely move the stream: a shallow draft is mostly accepted, output unchanged. */
    @Test
    void gentleLateLayersGiveHighAcceptance() {
        DecoderStack stack = RandomStacks.gentle(21, 6);
        OutputHead head = RandomStacks.head(22);
        PlannedStack ps = new PlannedStack(stack, ExecutionPlan.identity(6));
        int[] prompt = {1, 2, 3, 4, 5};
        int[] want = SelfSpeculativeDecoder.greedy(ps, head, prompt, 20, -1, 40);
        var r = new SelfSpeculativeDecoder(ps, head, 2, 4, 40, 8).generate(prompt, 20, -1);
        assertArrayEquals(want, r.tokens());
        System.out.printf("gentle stack E=2 n=4: acceptance %.2f over %d rounds%n", r.acceptanceRate(), r.rounds());
        assertTrue(r.acceptanceRate() >= 0.6, "acceptance " + r.acceptanceRate());
        assertTrue(r.rounds() < 20, "rounds " + r.rounds());
    }

    /**
     * On a LayerSkip-like stack (8 layers; Wo and W_down of layers ≥ 3 scaled by 0.02) a draft of E ≥ 3 layers is
     * mostly accepted and the output is still full greedy; and each round verifies its m drafts in ONE call of the
     * late steps over m + 1 positions (counted with a hook on the last step: one call per round besides the prompt,
     * rows = drafted + rounds), while the first E steps see one token per call (m + 1 calls per round).
     */
    @Test
    void layerSkipLikeStackAcceptsMostDraftsAndVerifiesInOneBatchedCall() {
        int layers = 8;
        DecoderStack stack = RandomStacks.layerSkipLike(31, layers, 3, 0.02);
        OutputHead head = RandomStacks.head(32);
        PlannedStack ps = new PlannedStack(stack, ExecutionPlan.identity(layers));
        int[] prompt = {3, 1, 4, 1, 5, 9};
        int gen = 40;
        int[] want = SelfSpeculativeDecoder.greedy(ps, head, prompt, gen, -1, 64);
        for (int e : new int[] {3, 5}) {
            for (int n : new int[] {3, 5}) {
                var dec = new SelfSpeculativeDecoder(ps, head, e, n, 64, 8);
                int[] lastCalls = new int[2], draftCalls = new int[1];
                dec.session().setHook((step, x, positions) -> {
                    if (step == layers - 1) {
                        lastCalls[0]++;
                        lastCalls[1] += x.dim(0);
                    } else if (step == e - 1) {
                        draftCalls[0]++;
                    }
                });
                var r = dec.generate(prompt, gen, -1);
                assertArrayEquals(want, r.tokens(), "E = " + e + ", n = " + n);
                System.out.printf("layerskip-like stack E=%d n=%d: acceptance %.2f (%d of %d), %d rounds for %d"
                        + " tokens%n", e, n, r.acceptanceRate(), r.accepted(), r.drafted(), r.rounds(), gen);
                assertTrue(r.acceptanceRate() >= 0.6, "E = " + e + ", n = " + n + ": acceptance "
                        + r.acceptanceRate());
                assertEquals(1 + r.rounds(), lastCalls[0], "late-step calls: the prompt, then one per round");
                assertEquals(prompt.length - 1 + r.drafted() + r.rounds(), lastCalls[1], "late-step rows");
                assertEquals(1 + r.drafted() + r.rounds(), draftCalls[0], "draft-step calls");
                assertEquals(gen, r.accepted() + r.rounds(), "every round emits its accepted drafts and one more");
            }
        }
    }

    @Test
    void eosStopsAndBadArgumentsAreRejected() {
        PlannedStack ps = new PlannedStack(F.stack, ExecutionPlan.identity(F.layers));
        int[] full = SelfSpeculativeDecoder.greedy(ps, F.head, F.tokens, 8, -1, 40);
        int eos = full[3];
        int[] want = SelfSpeculativeDecoder.greedy(ps, F.head, F.tokens, 8, eos, 40);
        assertEquals(eos, want[want.length - 1]);
        assertArrayEquals(want, new SelfSpeculativeDecoder(ps, F.head, 2, 4, 40, 8).generate(F.tokens, 8, eos)
                .tokens());
        assertThrows(IllegalArgumentException.class, () -> new SelfSpeculativeDecoder(ps, F.head, 0, 4, 40, 8));
        assertThrows(IllegalArgumentException.class, () -> new SelfSpeculativeDecoder(ps, F.head, 2, 0, 40, 8));
        var dec = new SelfSpeculativeDecoder(ps, F.head, 2, 2, 12, 8);
        assertThrows(IllegalStateException.class, () -> dec.generate(F.tokens, 10, -1));
    }
}
