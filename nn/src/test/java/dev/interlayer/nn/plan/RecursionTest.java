package dev.interlayer.nn.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.Attention;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Relaxed Recursive Transformers sharing maps and relaxation, MoEUT grouping, shared FFN: spec invariants. */
class RecursionTest {
    private static final int[] TOKENS = {1, 7, 3, 19, 0, 4};

    @Test
    void sharingMapsFollowTheSpec() {
        assertEquals("0,1,0,1,0,1", Recursion.plan(Recursion.Sharing.CYCLE, 2, 3).toString());
        assertEquals("0,0,0,1,1,1", Recursion.plan(Recursion.Sharing.SEQUENCE, 2, 3).toString());
        assertEquals("0,1,2,1,2,3", Recursion.plan(Recursion.Sharing.MIDDLE_CYCLE, 2, 2).toString());
        assertEquals("0,1,1,2,2,3", Recursion.plan(Recursion.Sharing.MIDDLE_SEQUENCE, 2, 2).toString());
        // MoEUT: G = 2 groups of L = 6 is the cycle [0, 1] × 3, one KV slot per step
        assertEquals(6, Recursion.plan(Recursion.Sharing.CYCLE, 2, 3).kvSlots());
    }

    /** R = 1 and no LoRA: the relaxed stack is the base model (same tensors, same kernels). */
    @Test
    void noRelaxationIsTheBase() {
        DecoderStack base = RandomStacks.stack(4, 3, true);
        DecoderStack relaxed = Recursion.relax(base, ExecutionPlan.identity(3), Collections.nCopies(3, Map.of()));
        assertSame(base.blocks().get(1).attention().wq(), relaxed.blocks().get(1).attention().wq());
        PlanPropertiesTest.same(base.forward(TOKENS, base.newSession(32, 8, false)).toFloatArray(),
                relaxed.forward(TOKENS, relaxed.newSession(32, 8, false)).toFloatArray());
    }

    /**
     * Full-rank deltas with a = r reproduce the original model: original layers 2, 3 (with the norms of layers 0, 1,
     * the shared-norm setting) = unique blocks 0, 1 + LoRA with B = W_orig − W_shared, A = I. Merging adds one
     * rounding per weight, so 1e-5.
     */
    @Test
    void fullRankRelaxationReproducesTheOriginal() {
        DecoderStack r = RandomStacks.stack(8, 4, true);
        List<TransformerBlock> orig = new ArrayList<>(r.blocks());
        for (int l = 2; l < 4; l++) {   // give layers 2, 3 the norms of their shared block (ln_share)
            TransformerBlock b = orig.get(l), s = orig.get(l - 2);
            orig.set(l, new TransformerBlock(b.config(), s.attnIn(), b.attention(), null, s.ffnIn(), b.ffn(), null));
        }
        DecoderStack original = new DecoderStack(r.embedding(), null, null, orig, r.finalNorm());
        DecoderStack unique = new DecoderStack(r.embedding(), null, null, orig.subList(0, 2), r.finalNorm());
        ExecutionPlan cycle = Recursion.plan(Recursion.Sharing.CYCLE, 2, 2);
        List<Map<String, Recursion.Lora>> loras = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Map<String, Recursion.Lora> m = new HashMap<>();
            if (t >= 2) {
                Attention a = orig.get(t).attention(), s = orig.get(t - 2).attention();
                GatedMlp f = (GatedMlp) orig.get(t).ffn(), g = (GatedMlp) orig.get(t - 2).ffn();
                m.put("q", full(a.wq().weight(), s.wq().weight()));
                m.put("k", full(a.wk().weight(), s.wk().weight()));
                m.put("v", full(a.wv().weight(), s.wv().weight()));
                m.put("o", full(a.wo().weight(), s.wo().weight()));
                m.put("gate", full(f.gate().weight(), g.gate().weight()));
                m.put("up", full(f.up().weight(), g.up().weight()));
                m.put("down", full(f.down().weight(), g.down().weight()));
            }
            loras.add(m);
        }
        DecoderStack relaxed = Recursion.relax(unique, cycle, loras);
        double err = ResearchFixture.maxAbs(relaxed.forward(TOKENS, relaxed.newSession(32, 8, false)).toFloatArray(),
                (original.forward(TOKENS, original.newSession(32, 8, false))
                        .toFloatArray()));
        assertTrue(err <= 1e-5, "full-rank relaxation vs original: " + err);
        // without the deltas the recursion is a different model
        PlannedStack pure = new PlannedStack(unique, cycle);
        double diff = ResearchFixture.maxAbs(pure.forward(TOKENS, pure.newSession(32, 8)).toFloatArray(),
                (original.forward(TOKENS, original.newSession(32, 8, false))
                        .toFloatArray()));
        assertTrue(diff > 1e-3, "pure recursion should differ, diff " + diff);
        assertThrows(IllegalArgumentException.class, () -> Recursion.relax(unique, cycle, List.of(Map.of("x",
                loras.get(2).get("q")), Map.of(), Map.of(), Map.of())));
    }

    // B = W_orig − W_shared [out, in], A = I [in, in], a = r = in: W_shared + B·A = W_orig
    private static Recursion.Lora full(Tensor orig, Tensor shared) {
        int out = orig.dim(0), in = orig.dim(1);
        Tensor b = Ops.sub(orig, shared, Tensor.zeros(out, in));
        Tensor a = Tensor.zeros(in, in);
        for (int i = 0; i < in; i++) {
            a.setFloat(1f, i, i);
        }
        return new Recursion.Lora(a, b, in);
    }

    /** Fully shared FFN: every layer reads the same FFN object (mutating it changes all), norms stay per layer. */
    @Test
    void sharedFfn() {
        DecoderStack base = RandomStacks.stack(6, 4, true);
        DecoderStack own = Recursion.sharedFfn(base, new int[] {0, 1, 2, 3});
        PlanPropertiesTest.same(base.forward(TOKENS, base.newSession(32, 8, false)).toFloatArray(),
                own.forward(TOKENS, own.newSession(32, 8, false)).toFloatArray());
        DecoderStack shared = Recursion.sharedFfn(base, new int[] {0, 0, 0, 0});
        for (TransformerBlock b : shared.blocks()) {
            assertSame(base.blocks().get(0).ffn(), b.ffn());
        }
        assertSame(base.blocks().get(3).attnIn(), shared.blocks().get(3).attnIn());
    }
}
