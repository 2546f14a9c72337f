package dev.interlayer.nn.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.readout.HiddenStates;
import dev.interlayer.nn.readout.LogitLens;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 on a real model (stories260K): self-speculative greedy decoding reproduces normal greedy output token for
 * token on three prompts for every draft depth (acceptance and a noisy tokens/s printed per depth), the logit-lens
 * table of a prompt (last row = the model's own prediction), and angular distances between layers.
 */
class Stories260KResearchTest {
    private static final String[] PROMPTS = {"Once upon a time", "The little girl", "One day, a cat"};

    @Test
    void selfSpeculativeReproducesGreedyOnThreePrompts() throws Exception {
        Stories260K m = Stories260K.load();
        PlannedStack ps = new PlannedStack(m.stack, ExecutionPlan.identity(5));
        for (String text : PROMPTS) {
            int[] prompt = m.encode(text);
            long t0 = System.nanoTime();
            int[] want = SelfSpeculativeDecoder.greedy(ps, m.head, prompt, 40, 2, 128);
            double plainTps = want.length * 1e9 / (System.nanoTime() - t0);
            System.out.printf("stories260K \"%s\" -> \"%s\" (plain greedy, %.0f tok/s noisy)%n", text,
                    m.decode(want), plainTps);
            for (int e = 1; e <= 5; e++) {
                var r = new SelfSpeculativeDecoder(ps, m.head, e, 4, 128, 16).generate(prompt, 40, 2);
                assertArrayEquals(want, r.tokens(), "\"" + text + "\", draft depth " + e);
                System.out.printf("  E=%d n=4: acceptance %.2f, %d rounds, %.0f tok/s (noisy)%n", e,
                        r.acceptanceRate(), r.rounds(), r.tokensPerSecond());
            }
        }
    }

    @Test
    void logitLensAndAngularDistances() throws Exception {
        Stories260K m = Stories260K.load();
        PlannedStack ps = new PlannedStack(m.stack, ExecutionPlan.identity(5));
        int[] prompt = m.encode(PROMPTS[0]);
        HiddenStates hs = HiddenStates.collect(ps, prompt);
        LogitLens.Cell[][] table = new LogitLens(m.stack.finalNorm(), m.head, null).table(hs.taps());
        StringBuilder sb = new StringBuilder("logit lens (layer x position: top token, probability)\n");
        for (int l = 0; l < table.length; l++) {
            sb.append(String.format("  %d:", l));
            for (LogitLens.Cell c : table[l]) {
                sb.append(String.format(" %10s %.2f", "'" + m.vocab.get(c.token()).replace('▁', ' ') + "'",
                        c.probability()));
            }
            sb.append('\n');
        }
        System.out.print(sb);
        var lg = m.head.logits(hs.normalizedLast(), dev.interlayer.tensor.Tensor.zeros(prompt.length, 512));
        for (int i = 0; i < prompt.length; i++) {
            assertEquals(OutputHead.argmax(lg, i), table[5][i].token());
        }
        var streams = List.of(LayerScores.streams(m.stack, prompt), LayerScores.streams(m.stack, m.encode(PROMPTS[1])),
                LayerScores.streams(m.stack, m.encode(PROMPTS[2])));
        for (int n = 1; n <= 2; n++) {
            double[] dn = LayerScores.angularDistances(streams, n);
            System.out.printf("angular distance D_%d(l) = %s -> prune from layer %d%n", n,
                    java.util.Arrays.toString(dn), LayerScores.bestBlockStart(dn));
            for (double v : dn) {
                assertTrue(v > 0 && v < 1);
            }
        }
    }
}
