package dev.interlayer.nn.readout;

import dev.interlayer.nn.Alibi;
import dev.interlayer.nn.Attention;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.PositionEncoding;
import dev.interlayer.nn.QkNorm;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * Recomputes one attention layer over a whole sequence at positions 0..T−1 and exposes what the fast layer keeps
 * private: the attention probabilities p[h, i, j] = softmax_j(mask(softcap(τ·q_i·k_j) − m_h·|i − j|)) and the
 * per-head outputs o[i, h] = Σ_j p[h, i, j]·v_j (before the output projection), with q, k from the block's input
 * norm, QK-norm and RoPE exactly as the layer defines them. For attention maps and per-head activation patching
 * (analysis, not decoding: it allocates and runs scalar loops).
 *
 * <p>Shapes: probs [H, T, T] (0 where masked); heads [T, H·dh]; output [T, d] = heads·Woᵀ + bo.
 *
 * @param probs  attention probabilities [H, T, T]
 * @param heads  per-head outputs [T, H·dh]
 * @param output the layer's output [T, d]
 */
public record AttentionProbe(Tensor probs, Tensor heads, Tensor output) {
    /**
     * Probes block b's attention on the stream x [T, d] entering the block (its input norm and LayerNorm-Scaling
     * factor are applied first when the placement has an input norm).
     */
    public static AttentionProbe ofBlock(TransformerBlock b, Tensor x) {
        Tensor u = x;
        if (b.config().placement().hasInputNorm()) {
            u = Tensor.zeros(x.dim(0), x.dim(1));
            b.attnIn().apply(x, u);
            if (b.config().normScale() != 1f) {
                dev.interlayer.tensor.Ops.scale(u, b.config().normScale(), u);
            }
        }
        return of(b.attention(), u);
    }

    /**
     * Probes the attention layer on its input u [T, d] (already normalized).
     *
     * @throws ShapeMismatchException unless u is [T, d]
     */
    public static AttentionProbe of(Attention a, Tensor u) {
        AttentionConfig c = a.config();
        int d = c.hidden();
        if (u.rank() != 2 || u.dim(1) != d) {
            throw new ShapeMismatchException("AttentionProbe: input must be [T, " + d + "], got " + u.shape());
        }
        int t = u.dim(0), hq = c.heads(), dh = c.headDim(), gs = c.groupSize();
        Tensor q = a.wq().apply(u, Tensor.zeros(t, c.qDim()));
        Tensor k = a.wk().apply(u, Tensor.zeros(t, c.kvDim()));
        Tensor v = a.wv().apply(u, Tensor.zeros(t, c.kvDim()));
        if (c.qkNorm() == QkNorm.HEAD) {
            a.qNorm().apply(q.reshape(t, hq, dh), q.reshape(t, hq, dh));
            a.kNorm().apply(k.reshape(t, c.kvHeads(), dh), k.reshape(t, c.kvHeads(), dh));
        } else if (c.qkNorm() == QkNorm.FLAT) {
            a.qNorm().apply(q, q);
            a.kNorm().apply(k, k);
        }
        float[] qa = q.toFloatArray(), ka = k.toFloatArray(), va = v.toFloatArray();
        if (c.positions() == PositionEncoding.ROPE) {
            Rope rope = c.rope().table(dh, t);
            rotate(qa, rope, t, hq, dh);
            rotate(ka, rope, t, c.kvHeads(), dh);
        }
        float[] slopes = c.positions() == PositionEncoding.ALIBI ? Alibi.slopes(hq, c.alibiMaxBias()) : null;
        float tau = c.effectiveScale(), cap = c.softcap();
        int w = c.window();
        float[] probs = new float[hq * t * t], heads = new float[t * c.qDim()];
        double[] s = new double[t];
        for (int h = 0; h < hq; h++) {
            int g = h / gs;
            for (int i = 0; i < t; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < t; j++) {
                    boolean visible = (!c.causal() || j <= i) && (w == 0 || Math.abs(i - j) < w);
                    if (!visible) {
                        s[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double dot = 0;
                    for (int e = 0; e < dh; e++) {
                        dot += (double) qa[i * c.qDim() + h * dh + e] * ka[j * c.kvDim() + g * dh + e];
                    }
                    double sc = dot * tau;
                    if (cap > 0) {
                        sc = cap * Math.tanh(sc / cap);
                    }
                    if (slopes != null) {
                        sc -= slopes[h] * Math.abs(i - j);
                    }
                    s[j] = sc;
                    max = Math.max(max, sc);
                }
                if (max == Double.NEGATIVE_INFINITY) {
                    continue; // fully masked row: probabilities and output 0
                }
                double sum = 0;
                for (int j = 0; j < t; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < t; j++) {
                    double p = s[j] / sum;
                    probs[(h * t + i) * t + j] = (float) p;
                    for (int e = 0; e < dh; e++) {
                        heads[i * c.qDim() + h * dh + e] += (float) (p * va[j * c.kvDim() + g * dh + e]);
                    }
                }
            }
        }
        Tensor ht = Tensor.wrap(heads, dev.interlayer.tensor.Shape.of(t, c.qDim()));
        Tensor out = a.wo().apply(ht, Tensor.zeros(t, d));
        return new AttentionProbe(Tensor.wrap(probs, dev.interlayer.tensor.Shape.of(hq, t, t)), ht, out);
    }

    // RoPE at positions 0..T−1 with the table's pairing, partial rotary dims and attention scaling.
    private static void rotate(float[] a, Rope rope, int t, int heads, int dh) {
        int half = rope.rotaryDim() / 2;
        boolean interleaved = rope.pairing() == Rope.Pairing.INTERLEAVED;
        float scaling = rope.attentionScaling();
        for (int p = 0; p < t; p++) {
            for (int h = 0; h < heads; h++) {
                int base = (p * heads + h) * dh;
                for (int j = 0; j < half; j++) {
                    double ang = (double) p * rope.invFreq(j);
                    float cs = (float) Math.cos(ang) * scaling, sn = (float) Math.sin(ang) * scaling;
                    int i0 = interleaved ? base + 2 * j : base + j;
                    int i1 = interleaved ? i0 + 1 : i0 + half;
                    float x0 = a[i0], x1 = a[i1];
                    a[i0] = x0 * cs - x1 * sn;
                    a[i1] = x1 * cs + x0 * sn;
                }
            }
        }
    }
}
