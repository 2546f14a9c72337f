package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import dev.interlayer.tensor.testing.Tries;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * AWQ against reference/quant-ptq/gen_awq.py (PyTorch float64; its losses are computed on the rows X directly,
 * the Java code uses tr(ΔW·H·ΔWᵀ)): same exponent, same input scales (1e-12 relative: Math.pow vs torch.pow),
 * identical codes, zero points and float32 scales, loss to 1e-9 relative. And the invariant: with only the
 * exponent 0 (scale 1) and no clipping, AWQ is RTN.
 */
class AwqTest {
    @Test
    void matchesReference() {
        Golden.forEachCase("awq.json", 4, c -> {
            int d = c.get("cols").getAsInt(), tokens = c.get("n").getAsInt();
            boolean[] keep = Golden.bools(c, "keep");
            float[] x = Golden.floats(c, "x");
            double[][] st = statistics(x, tokens, d, keep);
            List<float[]> ws = Golden.floatRows(c, "w");
            int[] rows = Golden.ints(c, "rows");
            Awq.Result r = Awq.quantize(ws, rows, d, st[0], st[1], Golden.scheme(c),
                    Awq.Options.DEFAULT.withClip(c.get("awqClip").getAsBoolean()));
            assertResult(c, r, 1e-9);
        });
    }

    /** AWQ's statistics of rows {@code x [tokens, d]} (padding rows {@code keep[t] == false} left out): mean |x|, H. */
    static double[][] statistics(float[] x, int tokens, int d, boolean[] keep) {
        ActivationStats stats = new ActivationStats(d);
        stats.accept(x, tokens, keep);
        HessianAccumulator h = new HessianAccumulator(d);
        h.accept(x, tokens, keep);
        return new double[][] {stats.meanAbs(), h.hessian()};
    }

    /**
     * The fixture case {@code c}'s exponent (exact), loss (to {@code lossRtol} relative), input scales (1e-12
     * relative: Math.pow vs torch.pow) and quantized linears (identical) against {@code r}.
     */
    static void assertResult(JsonObject c, Awq.Result r, double lossRtol) {
        String name = c.get("name").getAsString();
        assertEquals(c.get("alpha").getAsDouble(), r.alpha(), 0.0, name + " alpha");
        assertEquals(c.get("loss").getAsDouble(), r.loss(), lossRtol * c.get("loss").getAsDouble(), name + " loss");
        double[] s = Golden.doubles(c, "scales_in");
        for (int j = 0; j < s.length; j++) {
            assertEquals(s[j], r.inputScales()[j], 1e-12 * s[j], name + " input scale " + j);
        }
        for (int l = 0; l < r.weights().size(); l++) {
            JsonObject out = c.getAsJsonArray("out").get(l).getAsJsonObject().deepCopy();
            out.add("name", new com.google.gson.JsonPrimitive(name + " linear " + l));
            Golden.assertSame(out, r.weights().get(l));
        }
        assertEquals(c.getAsJsonArray("out").size(), r.weights().size(), name + " linears");
    }

    // A random AWQ problem: n = d + 10 calibration rows x [n, d] with their statistics and H = XᵀX, a scheme, and
    // the weights w [rows, d]; drawn in this order from r.
    private record Problem(int d, int rows, ActivationStats st, double[] h, QuantScheme s, float[] w) {
        static Problem random(SplittableRandom r) {
            int d = 8 + r.nextInt(40), rows = 1 + r.nextInt(10), n = d + 10;
            float[] x = Rand.activations(r, n, d);
            ActivationStats st = new ActivationStats(d);
            st.accept(x, n, null);
            double[] h = Rand.hessian(x, n, d);
            return new Problem(d, rows, st, h, Rand.scheme(r), Rand.weights(r, rows, d));
        }
    }

    @Test
    void scaleOneIsRtn() {
        Tries.run(10, 7000, (t, r) -> {
            Problem p = Problem.random(r);
            Awq.Result res = Awq.quantize(List.of(p.w), new int[] {p.rows}, p.d, p.st.meanAbs(), p.h, p.s,
                    new Awq.Options(1, false, 20, 0.5));
            assertEquals(0.0, res.alpha(), "try " + t);
            for (double v : res.inputScales()) {
                assertEquals(1.0, v, 0.0, "try " + t + ": scale of α = 0");
            }
            assertEquals(Rtn.quantize(p.w, p.rows, p.d, p.s), res.weights().get(0), "try " + t + " " + p.s);
        });
    }

    /** The exponent grid contains α = 0 (RTN), so the chosen scale's output error never exceeds RTN's. */
    @Test
    void neverWorseThanRtnOnItsObjective() {
        Tries.run(10, 7500, (t, r) -> {
            Problem p = Problem.random(r);
            Awq.Result res = Awq.quantize(List.of(p.w), new int[] {p.rows}, p.d, p.st.meanAbs(), p.h, p.s,
                    Awq.Options.DEFAULT.withClip(false));
            double rtn = MixedPrecision.hessianError(p.w, Rtn.quantize(p.w, p.rows, p.d, p.s), p.h) / (2.0 * p.rows);
            org.junit.jupiter.api.Assertions.assertTrue(res.loss() <= rtn * (1 + 1e-12), "try " + t + ": AWQ " + res.loss()
                    + " > RTN " + rtn);
        });
    }
}
