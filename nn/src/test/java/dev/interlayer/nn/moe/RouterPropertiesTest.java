package dev.interlayer.nn.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.RandomLayers;
import dev.interlayer.nn.Runs;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * Invariants of the routers (top-k with capacity limits, expert choice, hash, BASE, recurrent) and their
 * statistics on seeded random weights.
 */
class RouterPropertiesTest {
    static final int D = 12;

    static List<FeedForward> experts(RandomLayers r, int e) {
        List<FeedForward> out = new ArrayList<>();
        for (int j = 0; j < e; j++) {
            out.add(r.swiGlu(D, 8));
        }
        return out;
    }

    /** Output of one call over all of x, with token ids (may be null). */
    static float[] prefill(RoutedMoe m, Tensor x, int[] ids) {
        int t = x.dim(0);
        RoutingContext ctx = new RoutingContext(t);
        RoutedMoe.State st = m.newScratch(t, ctx);
        ctx.begin(ids, t, 0);
        Tensor y = Tensor.zeros(t, x.dim(1));
        m.forward(x, y, st);
        return y.toFloatArray();
    }

    /** Output over x in chunks (each a continuation call with past = tokens before it). */
    static float[] chunked(RoutedMoe m, Tensor x, int[] ids, int[] chunks) {
        int t = x.dim(0), d = x.dim(1);
        RoutingContext ctx = new RoutingContext(t);
        RoutedMoe.State st = m.newScratch(t, ctx);
        return Runs.chunked(chunks, d, (past, c) -> {
            ctx.begin(ids == null ? null : java.util.Arrays.copyOfRange(ids, past, past + c), c, past);
            Tensor y = Tensor.zeros(c, d);
            m.forward(x.slice(0, past, past + c), y, st);
            return y;
        });
    }

    static Linear permutedRows(Linear w, int[] perm) {
        Tensor p = Tensor.zeros(w.out(), w.in());
        for (int j = 0; j < perm.length; j++) {
            p.select(0, j).copyFrom(w.weight().select(0, perm[j]));
        }
        return new Linear(p);
    }

    static <T> List<T> permuted(List<T> xs, int[] perm) {
        List<T> out = new ArrayList<>();
        for (int p : perm) {
            out.add(xs.get(p));
        }
        return out;
    }

    @Test
    void permutingExpertsTogetherWithRouterRowsChangesNothing() {
        for (int seed = 0; seed < 4; seed++) {
            RandomLayers r = new RandomLayers(0xE1L + seed);
            int e = 4 + seed, t = 8;
            int[] perm = new int[e];
            for (int j = 0; j < e; j++) {
                perm[j] = seed % 2 == 0 ? (j + 1 + seed) % e : e - 1 - j; // rotations and a reversal
            }
            List<FeedForward> ex = experts(r, e);
            Linear w = r.linear(e, D);
            Tensor x = r.input(t, D);
            RecurrentCell cell = new RecurrentCell(r.linear(18, 6), r.linear(18, 6), RecurrentCell.Kind.GRU);
            Linear w1 = r.linear(6, D), w2 = r.linear(e, 6);
            List<BiFunction<Boolean, int[], RoutedMoe>> kinds = List.of(
                    (p, q) -> new RoutedMoe(TopKRouter.softmax(p ? permutedRows(w, q) : w, 2, true),
                            p ? permuted(ex, q) : ex, RoutedMoe.Combine.WEIGHTED_SUM),
                    (p, q) -> new RoutedMoe(TopKRouter.sigma(p ? permutedRows(w, q) : w, 3),
                            p ? permuted(ex, q) : ex, RoutedMoe.Combine.WEIGHTED_SUM),
                    (p, q) -> new RoutedMoe(new ExpertChoiceRouter(p ? permutedRows(w, q) : w, 2.0),
                            p ? permuted(ex, q) : ex, RoutedMoe.Combine.WEIGHTED_SUM),
                    (p, q) -> new RoutedMoe(new BaseRouter(p ? permutedRows(w, q) : w, false),
                            p ? permuted(ex, q) : ex, RoutedMoe.Combine.MIX_WITH_INPUT),
                    (p, q) -> new RoutedMoe(new RecurrentRouter(w1, p ? permutedRows(w2, q) : w2, cell, 2, true),
                            p ? permuted(ex, q) : ex, RoutedMoe.Combine.WEIGHTED_SUM));
            for (var k : kinds) {
                RoutedMoe a = k.apply(false, perm), b = k.apply(true, perm);
                // the same experts and weights; only the summation order of a token's experts can change
                double err = Runs.maxAbs(prefill(a, x, null), prefill(b, x, null));
                assertTrue(err <= 1e-6, a.router().getClass().getSimpleName() + " seed " + seed + ": " + err);
            }
            // hash: relabel the table's bins with the permutation's inverse
            HashRouter h = HashRouter.balancedRandom(20, e, seed);
            int[] inv = new int[e], table = h.table();
            for (int j = 0; j < e; j++) {
                inv[perm[j]] = j;
            }
            for (int i = 0; i < table.length; i++) {
                table[i] = inv[table[i]];
            }
            int[] ids = {3, 19, 0, 7, 7, 12, 15, 1}; // inside the table (ids past it use id mod E, not the table)
            double err = Runs.maxAbs(prefill(new RoutedMoe(h, ex, RoutedMoe.Combine.WEIGHTED_SUM), x, ids),
                    prefill(new RoutedMoe(new HashRouter(table, e), permuted(ex, perm),
                            RoutedMoe.Combine.WEIGHTED_SUM), x, ids));
            assertEquals(0.0, err, 0.0, "hash: the same expert runs each token on the same path");
        }
    }

    @Test
    void hashRoutingIsDeterministicBalancedAndIgnoresTheHiddenState() {
        HashRouter a = HashRouter.balancedRandom(1000, 7, 42), b = HashRouter.balancedRandom(1000, 7, 42);
        assertArrayEquals(a.table(), b.table(), "same seed, same table");
        assertNotEquals(java.util.Arrays.toString(a.table()),
                java.util.Arrays.toString(HashRouter.balancedRandom(1000, 7, 43).table()), "seed matters");
        int[] bins = new int[7];
        for (int x : a.table()) {
            bins[x]++;
        }
        for (int c : bins) {
            assertTrue(c == 142 || c == 143, "balanced bins: " + java.util.Arrays.toString(bins));
        }
        RandomLayers r = new RandomLayers(0x4A5L);
        RoutedMoe m = new RoutedMoe(a, experts(r, 7), RoutedMoe.Combine.WEIGHTED_SUM);
        int[] ids = {5, 999, 5, 1200, 17, 5};
        int t = ids.length;
        RoutingContext ctx = new RoutingContext(t);
        RoutedMoe.State st = m.newScratch(t, ctx);
        for (int trial = 0; trial < 3; trial++) {
            ctx.begin(ids, t, 0);
            m.forward(r.input(t, D), Tensor.zeros(t, D), st); // a different hidden state every trial
            Routing rt = st.routing();
            for (int i = 0; i < t; i++) {
                assertEquals(ids[i] < 1000 ? a.table()[ids[i]] : ids[i] % 7, rt.expert(i), "token " + i);
            }
            assertEquals(rt.expert(0), rt.expert(2), "same id, same expert");
            assertEquals(rt.expert(0), rt.expert(5), "same id, same expert");
        }
        var e = assertThrows(IllegalStateException.class, () -> m.forward(r.input(2, D), Tensor.zeros(2, D),
                m.newScratch(2)));
        assertTrue(e.getMessage().contains("token ids"), e.getMessage());
    }

    @Test
    void causalRoutersGivePrefillEqualToDecode() {
        RandomLayers r = new RandomLayers(0xCA5L);
        int e = 6, t = 11;
        Tensor x = r.input(t, D);
        int[] ids = {4, 8, 15, 16, 23, 42, 4, 8, 1, 0, 99};
        List<RoutedMoe> layers = List.of(
                new RoutedMoe(TopKRouter.softmax(r.linear(e, D), 2, true), experts(r, e), RoutedMoe.Combine.WEIGHTED_SUM),
                new RoutedMoe(TopKRouter.sigma(r.linear(e, D), 3), experts(r, e), RoutedMoe.Combine.WEIGHTED_SUM),
                new RoutedMoe(HashRouter.balancedRandom(50, e, 7), experts(r, e), RoutedMoe.Combine.WEIGHTED_SUM),
                new RoutedMoe(new BaseRouter(r.linear(e, D), false), experts(r, e), RoutedMoe.Combine.MIX_WITH_INPUT),
                new RoutedMoe(new RecurrentRouter(r.linear(5, D), r.linear(e, 5), new RecurrentCell(r.linear(15, 5),
                        r.linear(15, 5), RecurrentCell.Kind.RNN), 2, true), experts(r, e),
                        RoutedMoe.Combine.WEIGHTED_SUM));
        for (RoutedMoe m : layers) {
            assertTrue(m.causal());
            float[] full = prefill(m, x, ids);
            for (int[] sched : Runs.schedules(t)) {
                // a T-row GEMM and T one-row products round differently: a few float ulps of O(1) values
                double err = Runs.maxAbs(chunked(m, x, ids, sched), full);
                assertTrue(err <= 1e-5, m.router().getClass().getSimpleName() + " " + Runs.name(sched, t) + ": "
                        + err);
            }
        }
    }

    @Test
    void statsOfUniformRoutingAndUnderTokenPermutation() {
        // hash over ids that fill every bin equally: f_e = P_e = 1/E, so L_aux = 1, MaxVio = 0, CV = 0
        RandomLayers r = new RandomLayers(0x57L);
        int e = 4;
        HashRouter h = new HashRouter(new int[] {0, 1, 2, 3}, e);
        RoutedMoe m = new RoutedMoe(h, experts(r, e), RoutedMoe.Combine.WEIGHTED_SUM);
        int[] ids = {0, 1, 2, 3, 3, 2, 1, 0};
        RoutingContext ctx = new RoutingContext(8);
        RoutedMoe.State st = m.newScratch(8, ctx);
        ctx.begin(ids, 8, 0);
        m.forward(r.input(8, D), Tensor.zeros(8, D), st);
        assertEquals(1.0, st.stats().loadBalancingLoss(), 1e-12);
        assertEquals(0.0, st.stats().maxViolation(), 1e-12);
        assertEquals(0.0, st.stats().coefficientOfVariation(), 1e-12);
        assertEquals(0.25, st.stats().loadFraction(2), 1e-12);

        // statistics do not depend on token order (softmax router, permuted rows)
        RoutedMoe s = new RoutedMoe(TopKRouter.softmax(r.linear(e, D), 2, false), experts(r, e),
                RoutedMoe.Combine.WEIGHTED_SUM);
        Tensor x = r.input(9, D), xp = Tensor.zeros(9, D);
        for (int i = 0; i < 9; i++) {
            xp.select(0, i).copyFrom(x.select(0, (i * 4) % 9));
        }
        RoutedMoe.State s1 = s.newScratch(9), s2 = s.newScratch(9);
        s.forward(x, Tensor.zeros(9, D), s1);
        s.forward(xp, Tensor.zeros(9, D), s2);
        assertArrayEquals(s1.stats().tokensPerExpert(), s2.stats().tokensPerExpert());
        assertEquals(s1.stats().loadBalancingLoss(), s2.stats().loadBalancingLoss(), 1e-9);
        assertEquals(s1.stats().zLoss(), s2.stats().zLoss(), 1e-9);
        assertEquals(s1.stats().meanEntropy(), s2.stats().meanEntropy(), 1e-9);
    }

    @Test
    void capacityLimits() {
        RandomLayers r = new RandomLayers(0xCAFL);
        int e = 5, k = 2, t = 13;
        Linear w = r.linear(e, D);
        List<FeedForward> ex = experts(r, e);
        Tensor x = r.input(t, D);
        RoutedMoe free = new RoutedMoe(TopKRouter.softmax(w, k, true), ex, RoutedMoe.Combine.WEIGHTED_SUM);
        // capacity ≥ N: factor E/k gives C = N; nothing can be dropped, so the same computation runs (1e-6, not
        // 0: the JIT may compile a kernel between the two runs, and compiled vector lane sums add in another order)
        RoutedMoe roomy = new RoutedMoe(TopKRouter.softmax(w, k, true), ex, RoutedMoe.Combine.WEIGHTED_SUM,
                new CapacityLimit(e / (double) k));
        assertEquals(0.0, Runs.maxAbs(prefill(free, x, null), prefill(roomy, x, null)), 1e-6);
        CapacityLimit lim = new CapacityLimit(0.5);
        RoutedMoe tight = new RoutedMoe(TopKRouter.softmax(w, k, true), ex, RoutedMoe.Combine.WEIGHTED_SUM, lim);
        RoutedMoe.State st = tight.newScratch(t);
        tight.forward(x, Tensor.zeros(t, D), st);
        int cap = lim.capacity(t, k, e);
        for (int c : st.stats().tokensPerExpert()) {
            assertTrue(c <= cap, c + " > capacity " + cap);
        }
        assertTrue(st.stats().droppedAssignments() > 0 && st.stats().droppedFraction() > 0);
        assertFalse(tight.causal());
    }

    @Test
    void expertChoiceGivesEveryExpertExactlyCTokensAndIsPermutationEquivariant() {
        RandomLayers r = new RandomLayers(0xEC1L);
        int e = 4, t = 10;
        ExpertChoiceRouter router = new ExpertChoiceRouter(r.linear(e, D), 2.0);
        RoutedMoe m = new RoutedMoe(router, experts(r, e), RoutedMoe.Combine.WEIGHTED_SUM);
        Tensor x = r.input(t, D), xp = Tensor.zeros(t, D);
        int[] perm = {3, 7, 1, 0, 9, 2, 8, 5, 4, 6};
        for (int i = 0; i < t; i++) {
            xp.select(0, i).copyFrom(x.select(0, perm[i]));
        }
        RoutedMoe.State st = m.newScratch(t);
        Tensor y = Tensor.zeros(t, D), yp = Tensor.zeros(t, D);
        m.forward(x, y, st);
        for (int j = 0; j < e; j++) {
            assertEquals(router.perExpert(t), st.stats().tokensFor(j));
        }
        st.startSequence(); // a second whole sequence, not a continuation
        m.forward(xp, yp, st);
        for (int i = 0; i < t; i++) {
            double err = Runs.maxAbs(yp.select(0, i).toFloatArray(), y.select(0, perm[i]).toFloatArray());
            assertTrue(err <= 1e-6, "row " + i + ": " + err);
        }
    }

    @Test
    void aRunningTotalOfCallsEqualsOneCallOverAllTheirTokens() {
        RandomLayers r = new RandomLayers(0x707L);
        int e = 5, t = 9;
        RoutedMoe m = new RoutedMoe(TopKRouter.softmax(r.linear(e, D), 2, false), experts(r, e),
                RoutedMoe.Combine.WEIGHTED_SUM);
        Tensor x = r.input(t, D);
        RoutedMoe.State whole = m.newScratch(t), part = m.newScratch(t);
        m.forward(x, Tensor.zeros(t, D), whole);
        RouterStats total = RouterStats.total(e);
        for (int[] c : new int[][] {{0, 4}, {4, 9}}) {
            part.startSequence();
            m.forward(x.slice(0, c[0], c[1]), Tensor.zeros(c[1] - c[0], D), part);
            total.add(part.stats());
        }
        RouterStats w = whole.stats();
        assertArrayEquals(w.tokensPerExpert(), total.tokensPerExpert());
        assertEquals(t, total.tokens());
        assertEquals(w.slotsPerToken(), total.slotsPerToken(), 1e-12);
        for (int j = 0; j < e; j++) {
            assertEquals(w.meanProbability(j), total.meanProbability(j), 1e-7); // F32 router rows: sums in order
        }
        assertEquals(w.meanEntropy(), total.meanEntropy(), 1e-7);
        assertEquals(w.zLoss(), total.zLoss(), 1e-6);
        assertEquals(w.loadBalancingLoss(), total.loadBalancingLoss(), 1e-7);
        assertEquals(w.maxViolation(), total.maxViolation(), 1e-12);
        assertTrue(Double.isNaN(total.top1Agreement()), "a lone layer has no previous layer to agree with");
    }
}
