package dev.interlayer.nn.moe;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.LinearTap;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.ScratchPool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * Token-choice top-k mixture of experts (Shazeer et al. 2017, "Outrageously Large Neural Networks: The
 * Sparsely-Gated Mixture-of-Experts Layer"; as in Mixtral and Qwen2-MoE): z = u·W_rᵀ, s = softmax(z) (float32 or
 * wider), E_t = the k largest s_e (ties: lower index wins), w_e = s_e or s_e / Σ_{E_t} s (normTopK),
 * y = Σ_{e∈E_t} w_e·Expert_e(u) (+ shared expert, gated by sigmoid(w_sg·u) or always on). Only the
 * selected experts run, each on the batch of tokens routed to it.
 *
 * <p>This is the softmax {@link TopKRouter} configuration of {@link RoutedMoe} ({@link #routed()}) plus the
 * shared expert: routing, router statistics and the grouped sparse expert kernel ({@link GroupedExperts}) are
 * the same code for released checkpoints and the research routers.
 *
 * <p>Shapes: router [E, d]; every expert maps [n, d] → [n, d] with identical weight shapes;
 * sharedGate [1, d]; x, out [T, d].
 *
 * @param config      hyperparameters
 * @param router      W_r [E, d]
 * @param experts     E experts (usually SwiGLU {@link dev.interlayer.nn.GatedMlp})
 * @param shared      shared expert, or null when config.shared() = NONE
 * @param sharedGate  [1, d] gate for GATED, else null
 */
public record MoeFeedForward(MoeConfig config, Linear router, List<FeedForward> experts, FeedForward shared,
                             Linear sharedGate) implements FeedForward {
    /**
     * Checks router [E, d], E experts of one class and hidden d, and the shared expert against {@code config.shared()}.
     *
     * @throws ShapeMismatchException  if the router or an expert has the wrong shape or class
     * @throws IllegalArgumentException if the expert count or the shared expert/gate do not match the config
     */
    public MoeFeedForward {
        int d = config.hidden(), e = config.numExperts();
        router.requireShape("MoeFeedForward router", e, d);
        experts = List.copyOf(experts);
        if (experts.size() != e) {
            throw new IllegalArgumentException("MoeFeedForward: numExperts " + e + " but " + experts.size()
                    + " experts given");
        }
        for (int i = 0; i < e; i++) {
            FeedForward f = experts.get(i);
            if (f.hidden() != d || f.getClass() != experts.get(0).getClass()) {
                throw new ShapeMismatchException("MoeFeedForward expert " + i + ": must be a " + experts.get(0)
                        .getClass().getSimpleName() + " of hidden " + d + ", got " + f.getClass().getSimpleName()
                        + " of hidden " + f.hidden());
            }
        }
        switch (config.shared()) {
            case NONE -> {
                if (shared != null || sharedGate != null) {
                    throw new IllegalArgumentException("MoeFeedForward: shared expert given but config.shared = NONE");
                }
            }
            case ALWAYS -> {
                requireShared(shared, d);
                if (sharedGate != null) {
                    throw new IllegalArgumentException("MoeFeedForward: sharedGate given but config.shared = ALWAYS");
                }
            }
            case GATED -> {
                requireShared(shared, d);
                if (sharedGate == null) {
                    throw new IllegalArgumentException("MoeFeedForward: config.shared = GATED needs sharedGate [1, d]");
                }
                sharedGate.requireShape("MoeFeedForward sharedGate", 1, d);
            }
        }
    }

    private static void requireShared(FeedForward s, int d) {
        if (s == null || s.hidden() != d) {
            throw new IllegalArgumentException("MoeFeedForward: shared expert of hidden " + d + " required, got "
                    + (s == null ? "null" : "hidden " + s.hidden()));
        }
    }

    @Override
    public int hidden() {
        return config.hidden();
    }

    /**
     * The routed part as a {@link RoutedMoe}: a softmax top-k router on {@code router} (renormalized when
     * {@code config.normTopK()}), the experts, outputs summed with the combine weights, no capacity limit.
     */
    public RoutedMoe routed() {
        return new RoutedMoe(TopKRouter.softmax(router, config.topK(), config.normTopK()), experts,
                RoutedMoe.Combine.WEIGHTED_SUM);
    }

    @Override
    public State newScratch(int maxTokens) {
        return new State(this, maxTokens, null);
    }

    @Override
    public State newScratch(int maxTokens, ScratchPool pool) {
        return new State(this, maxTokens, pool);
    }

    /** Per-session buffers of one MoE layer, and the router statistics of its last call. */
    public static final class State implements Scratch {
        private final RoutedMoe routed;
        private final RoutedMoe.State routedState;
        private final RowBuffer sharedOut; // [maxTokens, d] shared expert output
        private final RowBuffer gate;      // [maxTokens, 1] shared-expert gate logits
        private final Scratch sharedScratch;
        private final int maxTokens, d;
        private RowBuffer acc;             // [maxTokens, d] output when out is not a heap row block

        private State(MoeFeedForward m, int maxTokens, ScratchPool pool) {
            d = m.config.hidden();
            this.maxTokens = maxTokens;
            routed = m.routed();
            routedState = routed.newScratch(maxTokens, pool);
            boolean hasShared = m.shared != null;
            // the shared expert runs after the routed ones: its scratch (sharedScratch) may take their pool roles,
            // its output has a role of its own
            sharedOut = hasShared ? ScratchPool.rows(pool, "moe shared expert output", maxTokens, d) : null;
            gate = m.sharedGate != null ? ScratchPool.rows(pool, "moe shared gate", maxTokens, 1) : null;
            sharedScratch = hasShared ? m.shared.newScratch(maxTokens, pool) : null;
        }

        private RowBuffer acc() {
            if (acc == null) {
                acc = new RowBuffer(maxTokens, d);
            }
            return acc;
        }

        /** Router statistics of the last call (those of the routed part; the shared expert has no router). */
        public RouterStats stats() {
            return routedState.stats();
        }

        boolean lastConcurrent() {
            return routedState.lastConcurrent();
        }

        /** The routing of the last call (logits, softmax scores, the top-k assignments). */
        public Routing routing() {
            return routedState.routing();
        }
    }

    @Override
    public void forward(Tensor x, Tensor out, Scratch scratch) {
        forward(x, out, scratch, 0, null);
    }

    /** As {@link #forward(Tensor, Tensor, Scratch)}; each expert reports its routed rows to the tap under its index. */
    @Override
    public void forward(Tensor x, Tensor out, Scratch scratch, int layer, LinearTap tap) {
        State st = (State) scratch;
        int t = x.dim(0), d = config.hidden();
        if (x.rank() != 2 || x.dim(1) != d || !x.shape().equals(out.shape())) {
            throw ShapeMismatchException.of("MoeFeedForward.forward", "x and out must be [T, " + d + "]", x.shape(),
                    out.shape());
        }
        if (shared == null) {
            st.routed.forward(x, x, out, st.routedState, layer, tap);
            return;
        }
        // routed experts into a heap row block (out itself when it is one), then the shared expert added to it
        boolean direct = out.heapFloats() != null && out.isContiguous() && !out.isReadOnly();
        Tensor y = direct ? out : st.acc().rows(t);
        st.routed.forward(x, x, y, st.routedState, layer, tap);
        float[] acc = y.heapFloats();
        int accOff = Math.toIntExact(y.segment().address() / Float.BYTES + y.offset());
        float[] so = st.sharedOut.data();
        shared.forward(x, st.sharedOut.rows(t), st.sharedScratch, layer,
                tap == null ? null : tap.forExpert(LinearTap.SHARED_EXPERT));
        float[] g = null;
        if (sharedGate != null) {
            sharedGate.apply(x, st.gate.rows(t));
            g = st.gate.data();
        }
        for (int i = 0; i < t; i++) {
            float w = g == null ? 1f : (float) (1.0 / (1.0 + Math.exp(-g[i])));
            Ops.axpy(w, so, i * d, acc, accOff + i * d, d);
        }
        if (!direct) {
            out.copyFrom(y);
        }
    }
}
