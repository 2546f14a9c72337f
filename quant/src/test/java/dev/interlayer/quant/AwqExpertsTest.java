package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.testing.Tries;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * AWQ's one input scale for the experts of a mixture-of-experts layer, each expert scored on its own routed rows
 * ({@link AwqRouted#outputError}), against reference/quant-ptq/gen_awq_experts.py (PyTorch
 * float64, losses on the rows directly): same exponent, input scales to 1e-12 relative (Math.pow vs torch.pow),
 * loss and scale-1 loss to 1e-9 relative (Hessian form vs rows), identical codes. And on random problems: the chosen
 * loss never exceeds scale 1's (α = 0 is on the grid), and with all experts on the same rows the objective is the
 * shared-input one.
 */
class AwqExpertsTest {
    @Test
    void matchesReference() {
        Golden.forEachCase("awq_experts.json", 3, c -> {
            String name = c.get("name").getAsString();
            int d = c.get("cols").getAsInt(), rows = c.get("rows").getAsInt(), shared = c.get("sharedRows").getAsInt();
            List<float[]> routed = Golden.floatRows(c, "routed");
            ActivationStats pooled = new ActivationStats(d);
            List<double[]> hs = new ArrayList<>();
            List<Integer> rowCounts = new ArrayList<>();
            List<Double> tokens = new ArrayList<>();
            for (float[] x : routed) {
                int n = x.length / d;
                pooled.accept(x, n, null);
                if (n == 0) {
                    continue;                                 // an expert without tokens: not in the objective
                }
                double[] h = hessian(x, n, d);
                for (int k = 0; k < 2; k++) {                 // its gate and up
                    hs.add(h);
                    rowCounts.add(rows);
                    tokens.add((double) n);
                }
            }
            if (shared > 0) {
                int n = c.get("n").getAsInt();
                double[] h = hessian(Golden.floats(c, "x"), n, d);
                for (int k = 0; k < 2; k++) {
                    hs.add(h);
                    rowCounts.add(shared);
                    tokens.add((double) n);
                }
            }
            List<float[]> ws = Golden.floatRows(c, "w");
            int[] r = rowCounts.stream().mapToInt(Integer::intValue).toArray();
            double[] t = tokens.stream().mapToDouble(Double::doubleValue).toArray();
            Awq.Objective objective = AwqRouted.outputError(ws, r, hs, t);
            QuantScheme scheme = Golden.scheme(c);
            Awq.Result res = Awq.quantize(ws, r, d, pooled.meanAbs(), hs.get(0), scheme,
                    Awq.Options.DEFAULT.withClip(false), objective);
            AwqTest.assertResult(c, res, 1e-9);
            double one = objective.loss(ones(d), rtn(ws, r, d, scheme));
            assertEquals(c.get("lossAtOne").getAsDouble(), one, 1e-9 * one, name + " loss at scale 1");
        });
    }

    @Test
    void neverWorseThanScaleOne() {
        Tries.run(10, 7700, (t, rnd) -> {
            Problem p = Problem.random(rnd);
            Awq.Objective objective = AwqRouted.outputError(p.ws, p.rows, p.hs, p.tokens);
            Awq.Result res = Awq.quantize(p.ws, p.rows, p.d, p.meanAbs, p.hs.get(0), p.scheme,
                    Awq.Options.DEFAULT.withClip(false), objective);
            double one = objective.loss(ones(p.d), rtn(p.ws, p.rows, p.d, p.scheme));
            assertTrue(res.loss() <= one * (1 + 1e-12), "try " + t + ": " + res.loss() + " > scale 1's " + one);
        });
    }

    /** With every linear on the same rows, the per-linear objective is the shared-input one, whatever the counts. */
    @Test
    void equalHessiansGiveTheSharedInputObjective() {
        Tries.run(10, 7800, (t, rnd) -> {
            Problem p = Problem.random(rnd);
            List<double[]> same = new ArrayList<>();
            double[] n = new double[p.rows.length];
            for (int i = 0; i < p.rows.length; i++) {
                same.add(p.hs.get(0));
                n[i] = 7;
            }
            double[] s = new double[p.d];
            for (int j = 0; j < p.d; j++) {
                s[j] = 0.5 + rnd.nextDouble();
            }
            List<QuantizedLinear> q = new ArrayList<>();
            for (int i = 0; i < p.ws.size(); i++) {
                q.add(Rtn.quantize(Awq.scaleColumns(p.ws.get(i), p.rows[i], p.d, s), p.rows[i], p.d, p.scheme));
            }
            double a = AwqRouted.outputError(p.ws, p.rows, same, n).loss(s, q);
            double b = Awq.outputError(p.ws, p.rows, p.hs.get(0)).loss(s, q);
            assertEquals(b, a, 1e-12 * b, "try " + t);
        });
    }

    // 1 to 4 experts (gate and up each) on their own random rows [n_e, d], and the pooled mean |x|
    private record Problem(int d, List<float[]> ws, int[] rows, List<double[]> hs, double[] tokens, double[] meanAbs,
                           QuantScheme scheme) {
        static Problem random(SplittableRandom r) {
            int d = 8 + r.nextInt(40), experts = 1 + r.nextInt(4), rows = 1 + r.nextInt(8);
            List<float[]> ws = new ArrayList<>();
            List<double[]> hs = new ArrayList<>();
            ActivationStats pooled = new ActivationStats(d);
            int[] rc = new int[2 * experts];
            double[] tokens = new double[2 * experts];
            for (int e = 0; e < experts; e++) {
                int n = d + 1 + r.nextInt(20);
                float[] x = Rand.activations(r, n, d);
                pooled.accept(x, n, null);
                double[] h = hessian(x, n, d);
                for (int k = 0; k < 2; k++) {
                    ws.add(Rand.weights(r, rows, d));
                    hs.add(h);
                    rc[2 * e + k] = rows;
                    tokens[2 * e + k] = n;
                }
            }
            return new Problem(d, ws, rc, hs, tokens, pooled.meanAbs(), Rand.scheme(r));
        }
    }

    private static double[] hessian(float[] x, int n, int d) {
        HessianAccumulator acc = new HessianAccumulator(d);
        acc.accept(x, n, null);
        return acc.hessian();
    }

    private static double[] ones(int d) {
        double[] s = new double[d];
        Arrays.fill(s, 1);
        return s;
    }

    private static List<QuantizedLinear> rtn(List<float[]> ws, int[] rows, int d, QuantScheme scheme) {
        List<QuantizedLinear> out = new ArrayList<>();
        for (int i = 0; i < ws.size(); i++) {
            out.add(Rtn.quantize(ws.get(i), rows[i], d, scheme));
        }
        return out;
    }
}
