package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The mixed-precision search's invariants on a synthetic additive metric (metric = Σ of the chosen layers'
 * per-format costs, so it grows with every layer added): bound ∞ puts everything in the lowest format, bound 0
 * quantizes nothing, the result always meets the bound, the next layer in the order would break it, and the
 * number of evaluations stays within ⌈log₂ n⌉ + 1 per format level (+1 for the reported metric).
 */
class MixedPrecisionTest {
    @Test
    void bisectionInvariants() {
        for (int t = 0; t < 30; t++) {
            var r = new SplittableRandom(10_000 + t);
            int layers = 1 + r.nextInt(40), levels = 2 + r.nextInt(2);
            double[][] cost = new double[levels][layers];       // cost[f][l] > 0, larger for lower formats
            double[][] scores = new double[levels][], saved = new double[levels][];
            for (int f = 1; f < levels; f++) {
                saved[f] = new double[layers];
                for (int l = 0; l < layers; l++) {
                    cost[f][l] = cost[f - 1][l] + 0.01 + r.nextDouble();
                    saved[f][l] = 4.0 * f;
                }
                scores[f] = MixedPrecision.scores(cost[f], cost[f], 1, 1);
            }
            MixedPrecision.Evaluator eval = fm -> {
                double m = 0;
                for (int l = 0; l < fm.length; l++) {
                    m += cost[fm[l]][l];
                }
                return m;
            };
            double total = 0;
            for (int l = 0; l < layers; l++) {
                total += cost[levels - 1][l];
            }
            int maxEvals = (levels - 1) * (32 - Integer.numberOfLeadingZeros(Math.max(1, layers - 1)) + 1) + 1;

            var all = MixedPrecision.search(scores, saved, Double.POSITIVE_INFINITY, eval);
            for (int f : all.formats()) {
                assertEquals(levels - 1, f, "try " + t + ": bound ∞ must use the lowest format everywhere");
            }
            var none = MixedPrecision.search(scores, saved, 0.0, eval);
            for (int f : none.formats()) {
                assertEquals(0, f, "try " + t + ": bound 0 must quantize nothing");
            }
            double bound = r.nextDouble() * total;
            var some = MixedPrecision.search(scores, saved, bound, eval);
            assertTrue(some.metric() <= bound, "try " + t + ": metric " + some.metric() + " > bound " + bound);
            assertEquals(eval.metric(some.formats()), some.metric(), 0.0, "try " + t + ": reported metric");
            assertTrue(some.evaluations() <= maxEvals, "try " + t + ": " + some.evaluations() + " evaluations > " + maxEvals);
            if (levels == 2) {                                  // maximal: the next layer in the order breaks the bound
                int[] order = MixedPrecision.order(scores[1], saved[1]);
                int k = 0;
                while (k < layers && some.formats()[order[k]] == 1) {
                    k++;
                }
                for (int i = k; i < layers; i++) {
                    assertEquals(0, some.formats()[order[i]], "try " + t + ": not a prefix of the order");
                }
                if (k < layers) {
                    int[] more = some.formats().clone();
                    more[order[k]] = 1;
                    assertTrue(eval.metric(more) > bound, "try " + t + ": one more layer would still fit");
                }
            }
        }
    }

    @Test
    void spearmanOfMonotoneMaps() {
        var r = new SplittableRandom(3);
        double[] a = new double[20], up = new double[20], down = new double[20];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextGaussian();
            up[i] = Math.exp(a[i]);
            down[i] = -a[i] * a[i] * a[i];
        }
        assertEquals(1.0, MixedPrecision.spearman(a, up), 1e-12);
        assertEquals(-1.0, MixedPrecision.spearman(a, down), 1e-12);
    }
}
