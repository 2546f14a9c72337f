package dev.interlayer.nn.readout;

import dev.interlayer.nn.Norm;
import dev.interlayer.nn.plan.OutputHead;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * The logit lens (nostalgebraist) and the tuned lens ("Eliciting Latent Predictions from Transformers with the
 * Tuned Lens", Belrose et al.): decode every intermediate stream with the model's own final norm and head.
 * <pre>
 *   logit lens:  logits(ℓ, t) = softcap(Head(N_f(x_ℓ(t))))                 ℓ = 0..L
 *   tuned lens:  logits(ℓ, t) = softcap(Head(N_f(x_ℓ + A_ℓ·x_ℓ + b_ℓ)))     (translator added residually)
 * </pre>
 * At ℓ = L the logit lens equals the model's logits. With zero translators the tuned lens equals the logit lens.
 *
 * @param finalNorm  N_f, or null when the model has none
 * @param head       the model's head (with its final soft-cap)
 * @param translator tuned-lens translators, or null for the plain logit lens
 */
public record LogitLens(Norm finalNorm, OutputHead head, TunedLens translator) {
    /** Logits [T, V] of tap x_ℓ [T, d] (layer = ℓ selects the translator; no translator past its last layer). */
    public Tensor logits(int layer, Tensor x) {
        Tensor in = x;
        if (translator != null && layer < translator.layers()) {
            in = translator.apply(layer, x);
        }
        Tensor u = Tensor.zeros(x.dim(0), x.dim(1));
        if (finalNorm != null) {
            finalNorm.apply(in, u);
        } else {
            u.copyFrom(in);
        }
        return head.logits(u, Tensor.zeros(x.dim(0), head.vocab()));
    }

    /** One lens cell: the top token at (layer, position), its probability, and KL(p_L ‖ p_ℓ) in nats. */
    public record Cell(int token, double probability, double klFromFinal, double entropy) {
    }

    /** The lens table [layer][position] over taps x_0..x_L (the last tap gives the model's own prediction). */
    public Cell[][] table(List<Tensor> taps) {
        int n = taps.size(), t = taps.get(0).dim(0);
        double[][] finalLogp = logSoftmax(logits(n - 1, taps.get(n - 1)));
        Cell[][] out = new Cell[n][t];
        for (int l = 0; l < n; l++) {
            double[][] lp = logSoftmax(logits(l, taps.get(l)));
            for (int i = 0; i < t; i++) {
                int best = 0;
                double kl = 0, ent = 0;
                for (int v = 0; v < lp[i].length; v++) {
                    if (lp[i][v] > lp[i][best]) {
                        best = v;
                    }
                    double pf = Math.exp(finalLogp[i][v]), p = Math.exp(lp[i][v]);
                    kl += pf > 0 ? pf * (finalLogp[i][v] - lp[i][v]) : 0;
                    ent -= p > 0 ? p * lp[i][v] : 0;
                }
                out[l][i] = new Cell(best, Math.exp(lp[i][best]), kl, ent);
            }
        }
        return out;
    }

    // log-softmax per row in double
    static double[][] logSoftmax(Tensor logits) {
        int t = logits.dim(0), v = logits.dim(1);
        float[] a = logits.toFloatArray();
        double[][] out = new double[t][];
        for (int i = 0; i < t; i++) {
            out[i] = LogSoftmax.of(a, i * v, v);
        }
        return out;
    }
}
