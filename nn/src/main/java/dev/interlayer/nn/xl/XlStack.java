package dev.interlayer.nn.xl;

import dev.interlayer.nn.Linear;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * A Transformer-XL decoder (Dai et al., 2019) run segment by segment with a {@link XlMemory}:
 * <pre>
 *   x_0 = E[tokens]·scale;   x_{ℓ+1} = Layer_ℓ(x_ℓ, mems[ℓ], r)   (r: sinusoids R[δ] = [sin δω, cos δω], ω_i = 10000^(−2i/d))
 *   mems[ℓ] ← last memLen rows of concat(mems[ℓ], x_ℓ);   logits = x_L·W_headᵀ + b_head
 * </pre>
 * Invariants (tested): with memLen ≥ the length of segment A, running A then B gives the outputs of running AB in
 * one pass at B's positions; memLen = 0 is plain relative attention over the segment; only distances enter, so
 * outputs do not depend on where the text starts.
 *
 * <p>A research path: plain loops and per-call arrays, not the engine's fast path.
 *
 * @param embedding [V, d] token embedding
 * @param embScale  factor on the embedding (the reference's √d_model)
 * @param layers    the layers
 * @param head      LM head [V, d] (+ bias), or null for hidden states only
 * @param heads     attention heads H (head width dh = Wq.out / H)
 * @param config    memory and masking options
 */
public record XlStack(Tensor embedding, float embScale, List<XlLayer> layers, Linear head, int heads,
                      XlConfig config) {
    /** @throws IllegalArgumentException naming what does not fit */
    public XlStack {
        layers = List.copyOf(layers);
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Transformer-XL needs at least one layer");
        }
        int d = embedding.dim(1);
        if (d % 2 != 0) {
            throw new IllegalArgumentException("Transformer-XL sinusoids need an even width, got d = " + d);
        }
        for (int l = 0; l < layers.size(); l++) {
            XlLayer x = layers.get(l);
            if (x.wq().in() != d || heads < 1 || x.wq().out() % heads != 0) {
                throw new IllegalArgumentException("Transformer-XL layer " + l + ": W_q " + x.wq().weight().shape()
                        + " does not fit d = " + d + " and " + heads + " heads");
            }
        }
        if (head != null) {
            head.requireShape("Transformer-XL LM head", embedding.dim(0), d);
        }
    }

    /** A fresh memory for one text. */
    public XlMemory newMemory() {
        return new XlMemory(layers.size(), embedding.dim(1), config.memLen());
    }

    /**
     * Runs one segment after what {@code memory} holds and advances the memory.
     *
     * @return the last layer's output [T, d]
     * @throws IllegalArgumentException for an empty segment or a token outside the vocabulary
     */
    public Tensor forward(int[] tokens, XlMemory memory) {
        int t = tokens.length, d = embedding.dim(1), m = memory.length();
        if (t < 1) {
            throw new IllegalArgumentException("Transformer-XL segment must hold at least one token");
        }
        float[] x = new float[t * d];
        for (int i = 0; i < t; i++) {
            if (tokens[i] < 0 || tokens[i] >= embedding.dim(0)) {
                throw new IllegalArgumentException("token " + tokens[i] + " at " + i + " is outside the vocabulary [0, "
                        + embedding.dim(0) + ")");
            }
            for (int p = 0; p < d; p++) {
                x[i * d + p] = embedding.getFloat(tokens[i], p) * embScale;
            }
        }
        float[] sinusoids = sinusoids(m + t, d);
        float[][] inputs = new float[layers.size()][];
        for (int l = 0; l < layers.size(); l++) {
            inputs[l] = x;
            x = layer(layers.get(l), x, memory.extended(l, x, t), sinusoids, m, t);
        }
        memory.update(inputs, t);
        return Tensor.wrap(x, Shape.of(t, d));
    }

    /** logits = h·W_headᵀ + b [T, V]. */
    public Tensor logits(Tensor hidden) {
        if (head == null) {
            throw new IllegalStateException("this Transformer-XL stack has no LM head");
        }
        return head.apply(hidden, Tensor.zeros(hidden.dim(0), head.out()));
    }

    private float[] layer(XlLayer w, float[] x, float[] extended, float[] sinusoids, int m, int t) {
        int d = embedding.dim(1), hd = w.wq().out(), k = m + t;
        Tensor xt = Tensor.wrap(x, Shape.of(t, d)), ext = Tensor.wrap(extended, Shape.of(k, d));
        Tensor src = config.preNorm() ? w.attnNorm().apply(ext, Tensor.zeros(k, d)) : ext;
        Tensor q = w.wq().apply(src.slice(0, m, k), Tensor.zeros(t, hd));
        Tensor keys = w.wk().apply(src, Tensor.zeros(k, hd)), values = w.wv().apply(src, Tensor.zeros(k, hd));
        Tensor r = w.wr().apply(Tensor.wrap(sinusoids, Shape.of(k, d)), Tensor.zeros(k, hd));
        float[] o = new float[t * hd];
        RelativeAttention.attend(q.toFloatArray(), keys.toFloatArray(), values.toFloatArray(), r.toFloatArray(),
                w.contentBias().toFloatArray(), w.positionBias().toFloatArray(), heads, hd / heads, m, t, config, o);
        Tensor h = Ops.add(xt, w.wo().apply(Tensor.wrap(o, Shape.of(t, hd)), Tensor.zeros(t, d)), Tensor.zeros(t, d));
        Tensor y = Tensor.zeros(t, d);
        if (config.preNorm()) {
            w.ffn().forward(w.ffnNorm().apply(h, Tensor.zeros(t, d)), y, w.ffn().newScratch(t));
        } else {
            w.attnNorm().apply(h, h);
            w.ffn().forward(h, y, w.ffn().newScratch(t));
            Ops.add(h, y, y);
            return w.ffnNorm().apply(y, Tensor.zeros(t, d)).toFloatArray();
        }
        return Ops.add(h, y, y).toFloatArray();
    }

    // R[δ] for δ = 0..n−1 (clamped), halves [sin | cos] as in the paper's code
    private float[] sinusoids(int n, int d) {
        float[] out = new float[n * d];
        int half = d / 2;
        for (int delta = 0; delta < n; delta++) {
            double pos = RelativeAttention.distanceRow(delta, config.clampLen());
            for (int i = 0; i < half; i++) {
                double angle = pos * Math.pow(10000.0, -2.0 * i / d);
                out[delta * d + i] = (float) Math.sin(angle);
                out[delta * d + half + i] = (float) Math.cos(angle);
            }
        }
        return out;
    }
}
