package dev.interlayer.nn.moe;

import dev.interlayer.nn.Linear;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.tensor.Tensor;

/**
 * Layerwise Recurrent Router (Qiu et al. 2024, "Layerwise Recurrent Router for Mixture-of-Experts"): the
 * router of MoE layer ℓ sees a recurrent state carried from the previous MoE layer's router, per token:
 * <pre>
 *   x_ℓ = W1_ℓ·u_ℓ,   r_ℓ = Cell(x_ℓ, r_{ℓ−1})   (r = 0 before the first MoE layer),   z_ℓ = W2_ℓ·r_ℓ
 * </pre>
 * then softmax top-k with renormalization (Mixtral form). The recurrence runs over depth for each token
 * separately; nothing crosses positions, so routing is causal and decode needs only the new tokens' states.
 * The state travels in the {@link RoutingContext}: the MoE layers of one forward must share one context, in
 * layer order, and dense layers do not touch it.
 *
 * @param w1       W1_ℓ [H, d] (no bias)
 * @param w2       W2_ℓ [E, H] (no bias)
 * @param cell     the cell shared by all layers of the model
 * @param topK     k
 * @param normTopK renormalize the k selected probabilities
 */
public record RecurrentRouter(Linear w1, Linear w2, RecurrentCell cell, int topK, boolean normTopK)
        implements TokenChoiceRouter {
    /**
     * Checks widths.
     *
     * @throws IllegalArgumentException if w1, w2 and the cell disagree on H or k is outside [1, E]
     */
    public RecurrentRouter {
        int h = cell.width();
        if (w1.out() != h || w2.in() != h) {
            throw new IllegalArgumentException("RecurrentRouter: w1 " + w1.weight().shape() + " and w2 "
                    + w2.weight().shape() + " must be [H, d] and [E, H] with the cell's H = " + h);
        }
        if (topK < 1 || topK > w2.out()) {
            throw new IllegalArgumentException("RecurrentRouter: topK " + topK + " must be in [1, numExperts="
                    + w2.out() + "]");
        }
    }

    @Override
    public int numExperts() {
        return w2.out();
    }

    @Override
    public int inputWidth() {
        return w1.in();
    }

    private record Buffers(RowBuffer x, RowBuffer gi, RowBuffer gh, int[] idx) {
    }

    @Override
    public Object newScratch(int maxTokens) {
        int h = cell.width();
        return new Buffers(new RowBuffer(maxTokens, h), new RowBuffer(maxTokens, 3 * h),
                new RowBuffer(maxTokens, 3 * h), new int[topK]);
    }

    @Override
    public void route(Tensor u, RoutingContext context, Routing out, Object scratch) {
        Buffers b = (Buffers) scratch;
        int t = out.tokens();
        RowBuffer state = context.recurrentState(cell.width());
        Tensor x = b.x.rows(t);
        w1.apply(u, x);
        cell.step(x, state, b.gi, b.gh);
        context.recurrentWritten();
        w2.apply(state.rows(t), out.logitRows());
        for (int i = 0; i < t; i++) {
            TopKRouter.select(out, i, topK, TopKRouter.Score.SOFTMAX, normTopK, b.idx);
        }
    }

    /** The state r_ℓ after this layer, [T, H] row-major in the context (for tests and inspection). */
    public static float[] state(RoutingContext context, int width) {
        return context.recurrentState(width).data();
    }
}
