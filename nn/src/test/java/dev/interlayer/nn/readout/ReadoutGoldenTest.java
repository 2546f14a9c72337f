package dev.interlayer.nn.readout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.plan.ResearchFixture;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.testing.JsonArrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Readouts against research.json (float64 PyTorch): HF hidden_states, logit lens, tuned lens, attention maps,
 * residual and per-head activation patching. Tolerance 1e-4 absolute (F32 vs float64; observed ~1e-6 on streams,
 * ~1e-5 on logits).
 */
class ReadoutGoldenTest {
    private static final ResearchFixture F = ResearchFixture.load();
    private static final double ATOL = 1e-4;
    private final PlannedStack ps = new PlannedStack(F.stack, ExecutionPlan.identity(F.layers));

    @Test
    void hiddenStatesFollowTheHuggingFaceConvention() {
        HiddenStates hs = HiddenStates.collect(ps, F.tokens);
        List<Tensor> hf = hs.huggingFace();
        JsonArray want = F.json.getAsJsonArray("hidden_states");
        assertEquals(F.layers + 1, hf.size());
        for (int l = 0; l < hf.size(); l++) {
            double err = ResearchFixture.maxAbs(hf.get(l).toFloatArray(), ResearchFixture.doubles(want.get(l)));
            assertTrue(err <= ATOL, "hidden_states[" + l + "]: " + err);
        }
    }

    @Test
    void logitAndTunedLensMatchTheReference() {
        HiddenStates hs = HiddenStates.collect(ps, F.tokens);
        LogitLens lens = new LogitLens(F.stack.finalNorm(), F.head, null);
        TunedLens tuned = TunedLens.fromTensors(name -> name.startsWith("layer_translators.")
                ? F.w(name.replace("layer_translators.", "tuned.")) : null, F.layers);
        LogitLens tunedLens = new LogitLens(F.stack.finalNorm(), F.head, tuned);
        JsonArray want = F.json.getAsJsonArray("lens"), wantTuned = F.json.getAsJsonArray("tuned_lens");
        double err = 0, errTuned = 0;
        for (int l = 0; l <= F.layers; l++) {
            err = Math.max(err, ResearchFixture.maxAbs(lens.logits(l, hs.taps().get(l)).toFloatArray(),
                    ResearchFixture.doubles(want.get(l))));
            errTuned = Math.max(errTuned, ResearchFixture.maxAbs(tunedLens.logits(l, hs.taps().get(l)).toFloatArray(),
                    ResearchFixture.doubles(wantTuned.get(l))));
        }
        System.out.printf("logit lens max abs err %.3e, tuned lens %.3e%n", err, errTuned);
        assertTrue(err <= ATOL && errTuned <= ATOL, "lens " + err + ", tuned " + errTuned);

        LogitLens.Cell[][] table = lens.table(hs.taps());
        Tensor model = F.head.logits(hs.normalizedLast(), Tensor.zeros(F.tokens.length, F.vocab));
        for (int i = 0; i < F.tokens.length; i++) {
            assertEquals(dev.interlayer.nn.plan.OutputHead.argmax(model, i), table[F.layers][i].token());
            assertEquals(0, table[F.layers][i].klFromFinal(), 1e-9);
        }
        assertThrows(IllegalArgumentException.class, () -> TunedLens.fromTensors(n -> null, 2));
    }

    /** Zero translators: the tuned lens equals the logit lens (same arithmetic plus exact zeros). */
    @Test
    void zeroTranslatorsGiveTheLogitLens() {
        HiddenStates hs = HiddenStates.collect(ps, F.tokens);
        TunedLens zero = TunedLens.fromTensors(n -> n.endsWith("weight") ? Tensor.zeros(F.hidden, F.hidden)
                : Tensor.zeros(F.hidden), F.layers);
        LogitLens plain = new LogitLens(F.stack.finalNorm(), F.head, null);
        LogitLens tuned = new LogitLens(F.stack.finalNorm(), F.head, zero);
        for (int l = 0; l <= F.layers; l++) {
            assertEquals(0, ResearchFixture.maxAbs(tuned.logits(l, hs.taps().get(l)).toFloatArray(),
                    (plain.logits(l, hs.taps().get(l)).toFloatArray())), 1e-6);
        }
    }

    @Test
    void attentionMapsMatchTheReferenceAndTheLayer() {
        HiddenStates hs = HiddenStates.collect(ps, F.tokens);
        double[] want = ResearchFixture.doubles(F.json.get("attention_probs"));
        int t = F.tokens.length, per = F.heads * t * t;
        for (int l = 0; l < F.layers; l++) {
            TransformerBlock b = F.stack.blocks().get(l);
            AttentionProbe probe = AttentionProbe.ofBlock(b, hs.taps().get(l));
            double[] layer = java.util.Arrays.copyOfRange(want, l * per, (l + 1) * per);
            assertTrue(ResearchFixture.maxAbs(probe.probs().toFloatArray(), layer) <= ATOL, "probs layer " + l);
            // the probe's output equals the fast attention layer's output on the same normed input
            Tensor u = Tensor.zeros(t, F.hidden);
            b.attnIn().apply(hs.taps().get(l), u);
            KvCache cache = new KvCache(16, b.config().attention().kvDim());
            Tensor fast = Tensor.zeros(t, F.hidden);
            b.attention().forward(u, fast, b.attention().newState(cache, 0, t));
            assertTrue(ResearchFixture.maxAbs(probe.output().toFloatArray(), (fast.toFloatArray())) <= 1e-5,
                    "probe vs Attention layer " + l);
        }
    }

    @Test
    void activationPatchingMatchesTheReference() {
        JsonObject p = F.json.getAsJsonObject("patch");
        var metric = ActivationPatching.Metric.logitDifference(p.get("target").getAsInt(), p.get("foil").getAsInt());
        ActivationPatching.Result res = ActivationPatching.residual(ps, F.head, F.tokens, F.corrupt, metric);
        assertEquals(p.get("clean").getAsDouble(), res.clean(), ATOL);
        assertEquals(p.get("corrupt").getAsDouble(), res.corrupt(), ATOL);
        JsonArray resid = p.getAsJsonArray("residual");
        for (int l = 0; l <= F.layers; l++) {
            double[] want = JsonArrays.doubles(resid.get(l).getAsJsonArray());
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], res.values()[l][i], ATOL, "residual patch layer " + l + " position " + i);
            }
        }
        ActivationPatching.Result heads = ActivationPatching.heads(F.stack, F.head, F.tokens, F.corrupt, metric);
        JsonArray head = p.getAsJsonArray("head");
        for (int l = 0; l < F.layers; l++) {
            double[] want = JsonArrays.doubles(head.get(l).getAsJsonArray());
            for (int h = 0; h < want.length; h++) {
                assertEquals(want[h], heads.values()[l][h], ATOL, "head patch layer " + l + " head " + h);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> ActivationPatching.residual(ps, F.head, F.tokens,
                new int[] {1, 2}, metric));
    }

}
