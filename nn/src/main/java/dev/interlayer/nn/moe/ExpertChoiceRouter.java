package dev.interlayer.nn.moe;

import dev.interlayer.nn.Linear;
import dev.interlayer.tensor.Tensor;

/**
 * Expert-choice routing (Zhou et al. 2022, "Mixture-of-Experts with Expert Choice Routing"): experts pick
 * tokens. S = softmax over experts of U·W_rᵀ [N, E]; each expert e takes the c = min(N, ⌈N·capacityFactor/E⌉)
 * tokens with the largest S[t, e] (ties: lower token index) and y_t = Σ_{e : t ∈ I_e} S[t, e]·Expert_e(u_t)
 * (0 when no expert picked t). Load is perfectly balanced, but a token may get zero or many experts.
 *
 * <p><b>Non-causal</b>: a token's routing depends on the other (including later) tokens of the call, so it
 * is defined only for a whole sequence scored in one call; {@link RoutedMoe} refuses continuation calls.
 *
 * @param weight         W_r [E, d]
 * @param capacityFactor average experts per token (the paper uses 2)
 */
public record ExpertChoiceRouter(Linear weight, double capacityFactor) implements LinearRouter {
    /** @throws IllegalArgumentException unless capacityFactor is positive and finite */
    public ExpertChoiceRouter {
        if (!(capacityFactor > 0) || Double.isInfinite(capacityFactor)) {
            throw new IllegalArgumentException("ExpertChoiceRouter: capacityFactor must be positive, got "
                    + capacityFactor);
        }
    }

    /** Tokens per expert c for a call of N tokens. */
    public int perExpert(int tokens) {
        return (int) Math.min(tokens, Math.ceil(tokens * capacityFactor / weight.out()));
    }

    @Override
    public boolean causal() {
        return false;
    }

    @Override
    public int maxAssignments(int tokens) {
        return weight.out() * perExpert(tokens);
    }

    private record Buffers(float[] column, int[] picked) {
    }

    @Override
    public Object newScratch(int maxTokens) {
        return new Buffers(new float[maxTokens], new int[maxTokens]);
    }

    @Override
    public void route(Tensor u, RoutingContext context, Routing out, Object scratch) {
        Buffers b = (Buffers) scratch;
        int n = out.tokens(), e = weight.out(), c = perExpert(n);
        softmaxScores(u, out);
        float[] s = out.scores();
        for (int j = 0; j < e; j++) {
            for (int t = 0; t < n; t++) {
                b.column[t] = s[t * e + j];
            }
            RouterMath.topK(b.column, 0, n, c, b.picked);
            for (int r = 0; r < c; r++) {
                out.add(b.picked[r], j, b.column[b.picked[r]], r);
            }
        }
    }
}
