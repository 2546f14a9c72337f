package dev.interlayer.nn.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.RandomLayers;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * Documents exactly where expert choice, BASE balanced assignment and capacity dropping break causality:
 * in each case appending LATER tokens to a call changes the routing of an EARLIER token, so running a
 * prefix and then decoding cannot reproduce the full-sequence result. Hand-built 2-D inputs with router
 * rows e0 = (1, 0), e1 = (0, 1) make the mechanism visible.
 */
class NonCausalRoutingTest {
    static final Linear ROUTER = new Linear(Tensor.f32(Shape.of(2, 2), 1, 0, 0, 1));

    static Tensor rows(float... v) {
        return Tensor.f32(Shape.of(v.length / 2, 2), v);
    }

    static List<FeedForward> experts() {
        RandomLayers r = new RandomLayers(0xC0L);
        return List.of(r.swiGlu(2, 3), r.swiGlu(2, 3));
    }

    /** Experts of token {@code tok} (kept assignments) in a call over x. */
    static Set<Integer> expertsOf(RoutedMoe m, Tensor x, int tok) {
        RoutedMoe.State st = m.newScratch(x.dim(0));
        m.forward(x, Tensor.zeros(x.dim(0), 2), st);
        Set<Integer> out = new TreeSet<>();
        Routing r = st.routing();
        for (int i = 0; i < r.count(); i++) {
            if (r.token(i) == tok && !r.dropped(i)) {
                out.add(r.expert(i));
            }
        }
        return out;
    }

    @Test
    void expertChoiceALaterTokenOutranksAnEarlierOneInAnExpertsColumn() {
        // capacity factor 1 with E = 2: each expert takes c = ceil(N/2) tokens.
        RoutedMoe m = new RoutedMoe(new ExpertChoiceRouter(ROUTER, 1.0), experts(), RoutedMoe.Combine.WEIGHTED_SUM);
        assertFalse(m.causal());
        // prefix of one token (1, 0): c = 1, both experts pick it, it gets experts {0, 1}
        assertEquals(Set.of(0, 1), expertsOf(m, rows(1, 0), 0));
        // append (3, 0): S[1, 0] > S[0, 0], so expert 0 now picks token 1 and token 0 keeps only expert 1
        assertEquals(Set.of(1), expertsOf(m, rows(1, 0, 3, 0), 0));
    }

    @Test
    void baseBalancedAssignmentALaterPairPushesAnEarlierTokenToItsSecondExpert() {
        RoutedMoe m = new RoutedMoe(new BaseRouter(ROUTER, true), experts(), RoutedMoe.Combine.MIX_WITH_INPUT);
        assertFalse(m.causal());
        // prefix (1, 0), (0, 1): the balanced optimum gives token 0 its greedy expert 0
        assertEquals(Set.of(0), expertsOf(m, rows(1, 0, 0, 1), 0));
        // append two tokens (5, −5) that gain far more from expert 0: with N/E = 2 slots per expert the optimum
        // (5 + 5 + 0 + 1 = 11) moves token 0 to expert 1
        assertEquals(Set.of(1), expertsOf(m, rows(1, 0, 0, 1, 5, -5, 5, -5), 0));
        // greedy BASE (the inference mode) keeps token 0 on expert 0 in both calls
        RoutedMoe greedy = new RoutedMoe(new BaseRouter(ROUTER, false), experts(), RoutedMoe.Combine.MIX_WITH_INPUT);
        assertTrue(greedy.causal());
        assertEquals(Set.of(0), expertsOf(greedy, rows(1, 0, 0, 1, 5, -5, 5, -5), 0));
    }

    @Test
    void capacityALaterFirstChoiceTakesTheSlotOfAnEarlierSecondChoice() {
        // top-2 of 2 experts, capacity factor 0.5: C = ceil(0.5·2·N/2) = ceil(N/2); first choices claim slots
        // before second choices, whatever their position
        RoutedMoe m = new RoutedMoe(TopKRouter.softmax(ROUTER, 2, true), experts(), RoutedMoe.Combine.WEIGHTED_SUM,
                new CapacityLimit(0.5));
        // alone (C = 1): token 0 = (1, 0) keeps its first choice 0 and its second choice 1
        assertEquals(Set.of(0, 1), expertsOf(m, rows(1, 0), 0));
        // append (0, 1) (C = 1): its FIRST choice is expert 1, ranked before token 0's second choice → dropped
        assertEquals(Set.of(0), expertsOf(m, rows(1, 0, 0, 1), 0));
    }

    @Test
    void aNonCausalLayerUsedAsAPlainFeedForwardRefusesTheSecondCallOfASequence() {
        // as inside a decoder stack that calls FeedForward.forward once per decode step without a shared context
        RoutedMoe m = new RoutedMoe(new ExpertChoiceRouter(ROUTER, 1.0), experts(), RoutedMoe.Combine.WEIGHTED_SUM);
        RoutedMoe.State st = m.newScratch(2);
        m.forward(rows(1, 0, 0, 1), Tensor.zeros(2, 2), st);
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> m.forward(rows(1, 1), Tensor.zeros(1, 2), st));
        assertTrue(e.getMessage().contains("non-causal") && e.getMessage().contains("past = 2"), e.getMessage());
        st.startSequence();
        m.forward(rows(1, 1), Tensor.zeros(1, 2), st); // a new one-token sequence is fine
        // a causal layer continues freely
        RoutedMoe c = new RoutedMoe(TopKRouter.softmax(ROUTER, 1, true), experts(), RoutedMoe.Combine.WEIGHTED_SUM);
        RoutedMoe.State cs = c.newScratch(2);
        c.forward(rows(1, 0, 0, 1), Tensor.zeros(2, 2), cs);
        c.forward(rows(1, 1), Tensor.zeros(1, 2), cs);
        assertEquals(1, cs.stats().tokens());
    }
}
