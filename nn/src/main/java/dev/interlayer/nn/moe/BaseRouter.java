package dev.interlayer.nn.moe;

import dev.interlayer.nn.Linear;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;

/**
 * BASE-layer routing (Lewis et al. 2021, "BASE Layers"): affinities a_{t,e} = u_t·c_e with the expert
 * centroids c_e, and the gate α_t = σ(a_{t,e_t}) on the chosen expert. Use with
 * {@link RoutedMoe.Combine#MIX_WITH_INPUT}: y_t = α_t·f_{e_t}(u_t) + (1 − α_t)·u_t, where u is the
 * residual stream itself (the BASE layer is a whole extra layer, no outer norm or residual).
 * <ul>
 *   <li>greedy (inference, causal): e_t = argmax_e a_{t,e};</li>
 *   <li>balanced (opt-in, training-mode, <b>non-causal</b>): the balanced linear assignment giving every expert
 *       exactly N/E of the call's tokens while maximizing Σ a_{t,e_t}, solved by the auction algorithm as the
 *       reference does (ε = max(1e-4, (max a − min a)/50); the result is within N·ε of the optimum). A token's
 *       expert then depends on every other token of the call, so it is defined only for whole sequences.</li>
 * </ul>
 * Statistics see softmax(a) as the score row.
 *
 * @param centroids W_c [E, d]
 * @param balanced  use the balanced assignment instead of greedy routing
 */
public record BaseRouter(Linear centroids, boolean balanced) implements LinearRouter {
    /** The router's linear map W = W_c (affinities a = z). */
    @Override
    public Linear weight() {
        return centroids;
    }

    @Override
    public boolean causal() {
        return !balanced;
    }

    @Override
    public int maxAssignments(int tokens) {
        return tokens;
    }

    // auction state over N slots, slot s belonging to expert s / (N/E)
    private record Auction(double[] price, int[] owner, int[] slotOf, int[] queue) {
    }

    @Override
    public Object newScratch(int maxTokens) {
        return balanced ? new Auction(new double[maxTokens], new int[maxTokens], new int[maxTokens],
                new int[maxTokens]) : null;
    }

    @Override
    public void route(Tensor u, RoutingContext context, Routing out, Object scratch) {
        int n = out.tokens(), e = numExperts();
        softmaxScores(u, out);
        float[] a = out.logits();
        if (!balanced) {
            for (int t = 0; t < n; t++) {
                int x = RouterMath.argmax(a, t * e, e);
                out.add(t, x, RouterMath.sigmoid(a[t * e + x]), 0);
            }
            return;
        }
        if (n % e != 0) {
            throw new IllegalArgumentException("BASE balanced assignment needs the token count to be a multiple of "
                    + "the expert count: " + n + " tokens, " + e + " experts");
        }
        Auction au = (Auction) scratch;
        auction(a, n, e, au);
        int cap = n / e;
        for (int t = 0; t < n; t++) {
            int x = au.slotOf[t] / cap;
            out.add(t, x, RouterMath.sigmoid(a[t * e + x]), 0);
        }
    }

    /**
     * Forward auction (Bertsekas): each unassigned token bids for the slot of best value a − price, raising its
     * price by (best − second best + ε) and evicting the previous owner; ends when every token holds a slot.
     */
    static void auction(float[] a, int n, int e, Auction au) {
        int cap = n / e;
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n * e; i++) {
            min = Math.min(min, a[i]);
            max = Math.max(max, a[i]);
        }
        double eps = Math.max(1e-4, (max - min) / 50.0);
        Arrays.fill(au.price, 0, n, 0);
        Arrays.fill(au.owner, 0, n, -1);
        int head = 0, waiting = n; // circular queue of unassigned tokens
        for (int t = 0; t < n; t++) {
            au.queue[t] = t;
        }
        long guard = 0, limit = 100_000L * n + 1_000_000L;
        while (waiting > 0) {
            if (++guard > limit) {
                throw new IllegalStateException("BASE auction did not converge after " + limit + " bids (non-finite "
                        + "affinities?)");
            }
            int t = au.queue[head];
            head = (head + 1) % n;
            waiting--;
            int best = -1;
            double v1 = Double.NEGATIVE_INFINITY, v2 = Double.NEGATIVE_INFINITY;
            for (int slot = 0; slot < n; slot++) {
                double v = a[t * e + slot / cap] - au.price[slot];
                if (v > v1) {
                    v2 = v1;
                    v1 = v;
                    best = slot;
                } else if (v > v2) {
                    v2 = v;
                }
            }
            au.price[best] += (v2 == Double.NEGATIVE_INFINITY ? 0 : v1 - v2) + eps;
            int prev = au.owner[best];
            au.owner[best] = t;
            au.slotOf[t] = best;
            if (prev >= 0) {
                au.queue[(head + waiting) % n] = prev;
                waiting++;
            }
        }
    }
}
