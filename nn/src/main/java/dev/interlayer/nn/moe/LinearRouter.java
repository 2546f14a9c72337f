package dev.interlayer.nn.moe;

import dev.interlayer.nn.Linear;
import dev.interlayer.tensor.Tensor;

/**
 * A router whose logits are one linear map of the selection input, z_t = W·u_t with W [E, d]: E and the input width
 * are W's rows and columns. Top-k ({@link TopKRouter}), expert-choice ({@link ExpertChoiceRouter}) and BASE
 * ({@link BaseRouter}, W = the expert centroids) routers are of this form.
 */
public interface LinearRouter extends Router {
    /** W [E, d]. */
    Linear weight();

    /** E = rows of W. */
    @Override
    default int numExperts() {
        return weight().out();
    }

    /** d = columns of W. */
    @Override
    default int inputWidth() {
        return weight().in();
    }

    /**
     * Logits z = u·Wᵀ [T, E] into {@code out.logits()} and their row softmax s_t = softmax(z_t) into
     * {@code out.scores()}, for the T = out.tokens() tokens of the call (after {@link Routing#begin}).
     */
    default void softmaxScores(Tensor u, Routing out) {
        weight().apply(u, out.logitRows());
        int e = numExperts();
        float[] z = out.logits(), s = out.scores();
        for (int t = 0; t < out.tokens(); t++) {
            RouterMath.softmax(z, t * e, s, t * e, e);
        }
    }
}
