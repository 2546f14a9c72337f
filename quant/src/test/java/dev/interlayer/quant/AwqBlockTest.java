package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * AWQ's scale search with llm-awq's block objective ({@link Awq.Objective} scoring each candidate on the output of
 * the whole attention block or MLP through {@link Awq#outputError}) against reference/quant-ptq/gen_awq_block.py
 * (PyTorch float64): same exponent, input scales, codes, zero points and float32 scales, loss to 1e-6 relative
 * (the fixture's block outputs are rounded to float32 here, as the engine's are, before the float64 difference;
 * that rounding moves the loss by ~1e-7 relative, far below the spacing of the grid's losses). The block forward
 * (causal softmax attention with grouped-query heads, no RoPE; silu(gate)·up) is this test's own double loop, the
 * same as the script's: the engine runs its own attention (models' AwqBlockObjective), tested elsewhere.
 */
class AwqBlockTest {
    @Test
    void matchesReference() {
        Golden.forEachCase("awq_block.json", 4, c -> {
            int d = c.get("cols").getAsInt(), tokens = c.get("n").getAsInt();
            int heads = c.get("heads").getAsInt(), kvHeads = c.get("kvHeads").getAsInt();
            int rowsNext = c.get("rowsNext").getAsInt();
            boolean attn = c.get("site").getAsString().equals("attn");
            float[] x = Golden.floats(c, "x"), wNext = Golden.floats(c, "wNext");
            double[][] st = AwqTest.statistics(x, tokens, d, null);
            List<float[]> ws = Golden.floatRows(c, "w");
            int[] rows = Golden.ints(c, "rows");
            int dNext = attn ? d : rows[0];
            float[] ref = attn ? attention(x, tokens, d, ws, heads, kvHeads) : mlp(x, tokens, d, ws, rows[0]);
            Awq.Objective block = (s, scaled) -> {
                List<float[]> wq = new ArrayList<>();
                for (QuantizedLinear q : scaled) {
                    wq.add(Awq.unscaled(q, s));
                }
                float[] a = attn ? attention(x, tokens, d, wq, heads, kvHeads) : mlp(x, tokens, d, wq, rows[0]);
                return Awq.outputError(a, ref, wNext, rowsNext, dNext);
            };
            Awq.Result r = Awq.quantize(ws, rows, d, st[0], st[1], Golden.scheme(c), Awq.Options.DEFAULT,
                    block);
            AwqTest.assertResult(c, r, 1e-6);
        });
    }

    @Test
    void outputErrorNamesShapes() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Awq.outputError(new float[6], new float[6], new float[5], 2, 3));
        assertEquals(true, e.getMessage().contains("Awq.outputError"), e.getMessage());
    }

    // y = x·Wᵀ for x [n, d], w [rows, d], in double
    private static double[] mul(float[] x, int n, int d, float[] w, int rows) {
        double[] y = new double[n * rows];
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                double acc = 0;
                for (int j = 0; j < d; j++) {
                    acc += (double) x[t * d + j] * w[r * d + j];
                }
                y[t * rows + r] = acc;
            }
        }
        return y;
    }

    // causal softmax attention of q = x·Wqᵀ over k, v (kv head of query head h: h / (heads / kvHeads)), [n, d]
    private static float[] attention(float[] x, int n, int d, List<float[]> w, int heads, int kvHeads) {
        int hd = d / heads, kvw = hd * kvHeads, group = heads / kvHeads;
        double[] q = mul(x, n, d, w.get(0), d), k = mul(x, n, d, w.get(1), kvw), v = mul(x, n, d, w.get(2), kvw);
        float[] out = new float[n * d];
        double[] p = new double[n];
        for (int h = 0; h < heads; h++) {
            int kh = h / group;
            for (int t = 0; t < n; t++) {
                double mx = Double.NEGATIVE_INFINITY;
                for (int u = 0; u <= t; u++) {
                    double sc = 0;
                    for (int e = 0; e < hd; e++) {
                        sc += q[t * d + h * hd + e] * k[u * kvw + kh * hd + e];
                    }
                    p[u] = sc / Math.sqrt(hd);
                    mx = Math.max(mx, p[u]);
                }
                double sum = 0;
                for (int u = 0; u <= t; u++) {
                    p[u] = Math.exp(p[u] - mx);
                    sum += p[u];
                }
                for (int e = 0; e < hd; e++) {
                    double acc = 0;
                    for (int u = 0; u <= t; u++) {
                        acc += p[u] * v[u * kvw + kh * hd + e];
                    }
                    out[t * d + h * hd + e] = (float) (acc / sum);
                }
            }
        }
        return out;
    }

    // silu(x·Wgᵀ)·(x·Wuᵀ), [n, hidden]
    private static float[] mlp(float[] x, int n, int d, List<float[]> w, int hidden) {
        double[] g = mul(x, n, d, w.get(0), hidden), u = mul(x, n, d, w.get(1), hidden);
        float[] out = new float[n * hidden];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (g[i] / (1 + Math.exp(-g[i])) * u[i]);
        }
        return out;
    }
}
