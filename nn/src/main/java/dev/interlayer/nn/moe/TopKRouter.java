package dev.interlayer.nn.moe;

import dev.interlayer.nn.Linear;
import dev.interlayer.tensor.Tensor;

/**
 * Token-choice top-k routing with a linear router, z_t = W_r·u_t, in two score forms:
 * <ul>
 *   <li>{@link Score#SOFTMAX} (Mixtral, OLMoE, Qwen-MoE; Shazeer et al. 2017, "Outrageously Large Neural
 *       Networks"): s = softmax(z), E_t = the k largest s_e, w_e = s_e, or s_e / Σ_{E_t} s when
 *       renormalized;</li>
 *   <li>{@link Score#SIGMOID} (σ-MoE of Csordás et al. 2023, "Approximating Two-Layer Feedforward Networks
 *       for Efficient Transformers", used by MoEUT): g = sigmoid(z), E_t = the k largest g_e, w_e = g_e,
 *       never renormalized by σ-MoE.</li>
 * </ul>
 * Ties go to the lower expert index. Causal: each token is routed on its own. For statistics the sigmoid
 * scores are divided by their sum.
 *
 * @param weight W_r [E, d]
 * @param topK   k, 1 ≤ k ≤ E
 * @param score  score function
 * @param normTopK renormalize the k selected scores to sum to 1
 */
public record TopKRouter(Linear weight, int topK, Score score, boolean normTopK) implements LinearRouter, TokenChoiceRouter {
    /** How logits become scores. */
    public enum Score {
        /** s = softmax(z) over the experts. */
        SOFTMAX,
        /** g = sigmoid(z) per expert, independent gates. */
        SIGMOID
    }

    /**
     * Checks k against E = weight rows.
     *
     * @throws IllegalArgumentException if k is outside [1, E] or score is null
     */
    public TopKRouter {
        if (topK < 1 || topK > weight.out()) {
            throw new IllegalArgumentException("TopKRouter: topK " + topK + " must be in [1, numExperts="
                    + weight.out() + "]");
        }
        if (score == null) {
            throw new IllegalArgumentException("TopKRouter: score is null");
        }
    }

    /** Mixtral-style softmax router. */
    public static TopKRouter softmax(Linear weight, int topK, boolean normTopK) {
        return new TopKRouter(weight, topK, Score.SOFTMAX, normTopK);
    }

    /** σ-MoE router: sigmoid gates, no renormalization. */
    public static TopKRouter sigma(Linear weight, int topK) {
        return new TopKRouter(weight, topK, Score.SIGMOID, false);
    }

    @Override
    public Object newScratch(int maxTokens) {
        return new int[topK];
    }

    @Override
    public void route(Tensor u, RoutingContext context, Routing out, Object scratch) {
        weight.apply(u, out.logitRows());
        for (int t = 0; t < out.tokens(); t++) {
            select(out, t, topK, score, normTopK, (int[]) scratch);
        }
    }

    /**
     * Routes token t from its logits row in {@code out}: scores, top-k, combine weights; leaves the
     * normalized scores in {@code out.scores()}. {@code idx} has room for k indices.
     */
    static void select(Routing out, int t, int k, Score score, boolean norm, int[] idx) {
        int e = out.experts(), off = t * e;
        float[] z = out.logits(), s = out.scores();
        if (score == Score.SOFTMAX) {
            RouterMath.softmax(z, off, s, off, e);
        } else {
            RouterMath.sigmoid(z, off, s, off, e);
        }
        RouterMath.topK(s, off, e, k, idx);
        double sum = 0;
        for (int r = 0; r < k; r++) {
            sum += s[off + idx[r]];
        }
        for (int r = 0; r < k; r++) {
            float w = s[off + idx[r]];
            out.add(t, idx[r], norm ? (float) (w / sum) : w, r);
        }
        if (score == Score.SIGMOID) {
            RouterMath.normalize(s, off, e);
        }
    }
}
