package dev.interlayer.nn.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Speculative sampling keeps the full model's distribution: the empirical distributions of the first and second
 * emitted tokens over 4000 seeded runs (draft depth E = 1, n = 3, so drafts are often rejected) match the exact
 * full-model marginals p(t1) and Σ_{t1} p(t1)·p(t2 | t1) within a total-variation distance of 0.06 (measured
 * noise: 0.04 at 4000 runs, 0.01 at 40000, shrinking as 1/sqrt(runs) as an unbiased sampler must).
 */
class SelfSpeculativeSamplingTest {
    private static final ResearchFixture F = ResearchFixture.load();
    private static final double T = 1.5;

    @Test
    void emittedTokensFollowTheFullModelDistribution() {
        PlannedStack ps = new PlannedStack(F.stack, ExecutionPlan.identity(F.layers));
        int[] prompt = Arrays.copyOf(F.tokens, 4);
        double[] p1 = next(ps, prompt);
        double[] p2 = new double[F.vocab];
        for (int a = 0; a < F.vocab; a++) {
            int[] longer = Arrays.copyOf(prompt, prompt.length + 1);
            longer[prompt.length] = a;
            double[] cond = next(ps, longer);
            for (int b = 0; b < F.vocab; b++) {
                p2[b] += p1[a] * cond[b];
            }
        }
        var dec = new SelfSpeculativeDecoder(ps, F.head, 1, 3, 32, 8, T, 42);
        int runs = 4000;
        double[] e1 = new double[F.vocab], e2 = new double[F.vocab];
        int drafted = 0, accepted = 0;
        for (int r = 0; r < runs; r++) {
            var res = dec.generate(prompt, 3, -1);
            e1[res.tokens()[0]] += 1.0 / runs;
            e2[res.tokens()[1]] += 1.0 / runs;
            drafted += res.drafted();
            accepted += res.accepted();
        }
        double tv1 = tv(p1, e1), tv2 = tv(p2, e2);
        System.out.printf("speculative sampling: TV first %.4f, second %.4f, acceptance %.2f%n", tv1, tv2,
                (double) accepted / drafted);
        assertTrue(tv1 < 0.06 && tv2 < 0.06, "TV " + tv1 + ", " + tv2);
        assertTrue(accepted > 0 && accepted < drafted, "both acceptance paths must be exercised");
    }

    @Test
    void tinyTemperatureIsGreedy() {
        PlannedStack ps = new PlannedStack(F.stack, ExecutionPlan.identity(F.layers));
        int[] want = SelfSpeculativeDecoder.greedy(ps, F.head, F.tokens, 8, -1, 32);
        assertArrayEquals(want, new SelfSpeculativeDecoder(ps, F.head, 2, 3, 32, 8, 1e-4, 7).generate(F.tokens, 8,
                -1).tokens());
    }

    private static double[] next(PlannedStack ps, int[] tokens) {
        Tensor h = ps.forward(tokens, ps.newSession(32, 8));
        Tensor lg = F.head.logits(h, Tensor.zeros(tokens.length, F.vocab));
        double[] p = new double[F.vocab];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int v = 0; v < F.vocab; v++) {
            max = Math.max(max, lg.getFloat(tokens.length - 1, v) / T);
        }
        for (int v = 0; v < F.vocab; v++) {
            p[v] = Math.exp(lg.getFloat(tokens.length - 1, v) / T - max);
            sum += p[v];
        }
        for (int v = 0; v < F.vocab; v++) {
            p[v] /= sum;
        }
        return p;
    }

    private static double tv(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs(a[i] - b[i]);
        }
        return s / 2;
    }
}
