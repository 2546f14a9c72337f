package dev.interlayer.models.research;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.LayerScores;
import dev.interlayer.nn.plan.OutputHead;
import dev.interlayer.nn.plan.PlanSession;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.plan.SelfSpeculativeDecoder;
import dev.interlayer.nn.readout.ActivationPatching;
import dev.interlayer.nn.readout.HiddenStates;
import dev.interlayer.nn.readout.LogitLens;
import dev.interlayer.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 on a real model, stories260K read by the models loader (llama, 5 layers, d = 64, GQA 8/4): self-speculative
 * greedy decoding reproduces normal greedy output token for token on three prompts for every draft depth (acceptance
 * and a noisy tokens/s printed per depth), the logit-lens table of a prompt (last row = the model's own prediction),
 * angular distances between layers, and residual patching of a whole tap restoring the clean run.
 */
class Stories260KResearchTest {
    private static final String[] PROMPTS = {"Once upon a time", "The little girl", "One day, a cat"};

    private static LoadedModel open() throws Exception {
        return ModelLoader.open(SharedModels.require("stories260K/stories260K.gguf"));
    }

    @Test
    void selfSpeculativeReproducesGreedyOnThreePrompts() throws Exception {
        try (LoadedModel m = open()) {
            DecoderLM lm = (DecoderLM) m.lm();
            PlannedStack ps = new PlannedStack(lm.stack(), ExecutionPlan.identity(5));
            OutputHead head = lm.outputHead();
            int eos = m.tokenizer().eos().orElseThrow();
            for (String text : PROMPTS) {
                int[] prompt = m.tokenizer().encode(text);
                long t0 = System.nanoTime();
                int[] want = SelfSpeculativeDecoder.greedy(ps, head, prompt, 40, eos, 128);
                double plainTps = want.length * 1e9 / (System.nanoTime() - t0);
                System.out.printf("stories260K \"%s\" -> \"%s\" (plain greedy, %.0f tok/s noisy)%n", text,
                        m.tokenizer().decode(want), plainTps);
                for (int e = 1; e <= 5; e++) {
                    var r = new SelfSpeculativeDecoder(ps, head, e, 4, 128, 16).generate(prompt, 40, eos);
                    assertArrayEquals(want, r.tokens(), "\"" + text + "\", draft depth " + e);
                    System.out.printf("  E=%d n=4: acceptance %.2f, %d rounds, %.0f tok/s (noisy)%n", e,
                            r.acceptanceRate(), r.rounds(), r.tokensPerSecond());
                }
            }
        }
    }

    @Test
    void logitLensAndAngularDistances() throws Exception {
        try (LoadedModel m = open()) {
            DecoderLM lm = (DecoderLM) m.lm();
            Tokenizer tok = m.tokenizer();
            PlannedStack ps = new PlannedStack(lm.stack(), ExecutionPlan.identity(5));
            int[] prompt = tok.encode(PROMPTS[0]);
            HiddenStates hs = HiddenStates.collect(ps, prompt);
            LogitLens.Cell[][] table = new LogitLens(lm.stack().finalNorm(), lm.outputHead(), null).table(hs.taps());
            // the last row is the model's own prediction, from the ordinary (non-plan) forward pass
            float[] logits = lm.newSession(prompt.length).appendAll(prompt, 0, prompt.length);
            int v = lm.vocabSize();
            for (int i = 0; i < prompt.length; i++) {
                int best = 0;
                for (int j = 1; j < v; j++) {
                    best = logits[i * v + j] > logits[i * v + best] ? j : best;
                }
                assertEquals(best, table[5][i].token(), "position " + i);
            }
            var streams = List.of(LayerScores.streams(lm.stack(), prompt),
                    LayerScores.streams(lm.stack(), tok.encode(PROMPTS[1])),
                    LayerScores.streams(lm.stack(), tok.encode(PROMPTS[2])));
            for (int n = 1; n <= 2; n++) {
                double[] dn = LayerScores.angularDistances(streams, n);
                System.out.printf("angular distance D_%d(l) = %s -> prune from layer %d%n", n,
                        java.util.Arrays.toString(dn), LayerScores.bestBlockStart(dn));
                for (double d : dn) {
                    assertTrue(d > 0 && d < 1);
                }
            }
        }
    }

    // Restoring every position of tap l (embedding output for l = 0, layer l's output after) from the clean run makes
    // the rest of the corrupted run the clean run: the metric returns to the clean one. Tolerance 1e-4: the same F32
    // kernels on the same inputs, with the copied stream replacing the computed one (identical up to rounding).
    @Test
    void patchingAWholeTapRestoresTheCleanMetric() throws Exception {
        try (LoadedModel m = open()) {
            DecoderLM lm = (DecoderLM) m.lm();
            Tokenizer tok = m.tokenizer();
            int[] clean = tok.encode("Once upon a time"), corrupt = tok.encode("Once upon a day");
            assertEquals(clean.length, corrupt.length);
            PlannedStack ps = new PlannedStack(lm.stack(), ExecutionPlan.identity(5));
            OutputHead head = lm.outputHead();
            ActivationPatching.Metric metric = ActivationPatching.Metric.logitDifference(432, 383);
            HiddenStates cleanStates = HiddenStates.collect(ps, clean);
            double cleanMetric = metric.of(logits(ps, head, clean, -1, null));
            double corruptMetric = metric.of(logits(ps, head, corrupt, -1, null));
            assertTrue(Math.abs(cleanMetric - corruptMetric) > 0.1, cleanMetric + " vs " + corruptMetric);
            for (int l = 0; l < cleanStates.size(); l++) {
                double patched = metric.of(logits(ps, head, corrupt, l, cleanStates.taps().get(l)));
                assertEquals(cleanMetric, patched, 1e-4, "tap " + l);
            }
        }
    }

    // Logits [T, V] of a prefill, with tap `tap` (-1 = none) overwritten by `with` at every position.
    private static Tensor logits(PlannedStack ps, OutputHead head, int[] tokens, int tap, Tensor with) {
        PlanSession s = ps.newSession(tokens.length, tokens.length);
        int[] seen = {0};
        s.setHook((step, x, positions) -> {
            if (seen[0]++ == tap) {
                x.copyFrom(with);
            }
        });
        Tensor h = ps.forward(tokens, s);
        return head.logits(h, Tensor.zeros(tokens.length, head.vocab()));
    }
}
