package dev.interlayer.nn.moe;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Token-choice top-k mixture of experts (§5.1–5.2 form A): z = u·W_rᵀ, s = softmax(z) (float32 or
 * wider), E_t = the k largest s_e (ties: lower index wins), w_e = s_e or s_e / Σ_{E_t} s (normTopK),
 * y = Σ_{e∈E_t} w_e·Expert_e(u) (+ shared expert, gated by sigmoid(w_sg·u) or always on). Only the
 * selected experts run, each on the batch of tokens routed to it.
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

    @Override
    public State newScratch(int maxTokens) {
        return new State(this, maxTokens);
    }

    /** Per-session buffers of one MoE layer, and the router statistics of its last call. */
    public static final class State implements Scratch {
        private final RowBuffer logits;   // [maxTokens, E] router logits, then probabilities
        private final int[] selected;     // [maxTokens * k] expert ids
        private final float[] weights;    // [maxTokens * k] combine weights
        private final int[] order;        // [maxTokens * k] slot ids grouped by expert
        private final int[] start;        // [E + 1] group starts in order
        private final int[] fill;         // [E] next free index per group
        private final RowBuffer gx;       // [maxTokens, d] gathered tokens of one expert
        private final RowBuffer gy;       // [maxTokens, d] that expert's outputs
        private final RowBuffer acc;      // [maxTokens, d] combined output
        private final RowBuffer gate;     // [maxTokens, 1] shared-expert gate logits
        private final Scratch expertScratch;
        private final Scratch sharedScratch;
        private final RouterStats stats;

        private State(MoeFeedForward m, int maxTokens) {
            int e = m.config.numExperts(), k = m.config.topK(), d = m.config.hidden();
            logits = new RowBuffer(maxTokens, e);
            selected = new int[maxTokens * k];
            weights = new float[maxTokens * k];
            order = new int[maxTokens * k];
            start = new int[e + 1];
            fill = new int[e];
            gx = new RowBuffer(maxTokens, d);
            gy = new RowBuffer(maxTokens, d);
            acc = new RowBuffer(maxTokens, d);
            gate = new RowBuffer(maxTokens, 1);
            expertScratch = m.experts.get(0).newScratch(maxTokens); // experts run one after another
            sharedScratch = m.shared == null ? null : m.shared.newScratch(maxTokens);
            stats = new RouterStats(e, k);
        }

        /** Router statistics of the last call. */
        public RouterStats stats() {
            return stats;
        }
    }

    @Override
    public void forward(Tensor x, Tensor out, Scratch scratch) {
        State st = (State) scratch;
        int t = x.dim(0), d = config.hidden(), e = config.numExperts(), k = config.topK();
        if (x.rank() != 2 || x.dim(1) != d || !x.shape().equals(out.shape())) {
            throw ShapeMismatchException.of("MoeFeedForward.forward", "x and out must be [T, " + d + "]", x.shape(),
                    out.shape());
        }
        // ---- routing ----
        router.apply(x, st.logits.rows(t));
        float[] p = st.logits.data();
        st.stats.reset();
        for (int i = 0; i < t; i++) {
            double entropy = softmaxInPlace(p, i * e, e);
            st.stats.addToken(p, i * e, entropy);
            selectTopK(p, i * e, e, k, st.selected, st.weights, i * k, config.normTopK());
        }
        // ---- group token slots by expert (counting sort) ----
        Arrays.fill(st.start, 0);
        for (int s = 0; s < t * k; s++) {
            st.start[st.selected[s] + 1]++;
            st.stats.addSelection(st.selected[s]);
        }
        for (int j = 0; j < e; j++) {
            st.start[j + 1] += st.start[j];
        }
        int[] fill = st.fill;
        System.arraycopy(st.start, 0, fill, 0, e);
        for (int s = 0; s < t * k; s++) {
            st.order[fill[st.selected[s]]++] = s;
        }
        // ---- run each selected expert on its tokens ----
        float[] acc = st.acc.data(), gx = st.gx.data(), gy = st.gy.data();
        Arrays.fill(acc, 0, t * d, 0f);
        Tensor xc = x.contiguous();
        for (int j = 0; j < e; j++) {
            int n = st.start[j + 1] - st.start[j];
            if (n == 0) {
                continue;
            }
            for (int r = 0; r < n; r++) {
                int tok = st.order[st.start[j] + r] / k;
                copyRow(xc, tok, gx, r * d, d);
            }
            experts.get(j).forward(st.gx.rows(n), st.gy.rows(n), st.expertScratch);
            for (int r = 0; r < n; r++) {
                int slot = st.order[st.start[j] + r];
                Ops.axpy(st.weights[slot], gy, r * d, acc, (slot / k) * d, d);
            }
        }
        // ---- shared expert ----
        if (shared != null) {
            shared.forward(x, st.gy.rows(t), st.sharedScratch);
            float[] g = st.gate.data();
            if (sharedGate != null) {
                sharedGate.apply(x, st.gate.rows(t));
            }
            for (int i = 0; i < t; i++) {
                float w = sharedGate == null ? 1f : (float) (1.0 / (1.0 + Math.exp(-g[i])));
                Ops.axpy(w, gy, i * d, acc, i * d, d);
            }
        }
        out.copyFrom(st.acc.rows(t));
    }

    // p[off..off+n) ← softmax(p[off..off+n)) computed in double; returns the entropy −Σ s log s.
    private static double softmaxInPlace(float[] p, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, p[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(p[off + i] - max);
        }
        double entropy = 0;
        for (int i = 0; i < n; i++) {
            double s = Math.exp(p[off + i] - max) / sum;
            p[off + i] = (float) s;
            if (s > 0) {
                entropy -= s * Math.log(s);
            }
        }
        return entropy;
    }

    // k largest probabilities (ties: lower index first) into sel/w[out..out+k); renormalized if asked.
    private static void selectTopK(float[] p, int off, int n, int k, int[] sel, float[] w, int out, boolean norm) {
        double sum = 0;
        for (int s = 0; s < k; s++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                if (taken(sel, out, s, i)) {
                    continue;
                }
                if (best < 0 || p[off + i] > p[off + best]) {
                    best = i;
                }
            }
            sel[out + s] = best;
            w[out + s] = p[off + best];
            sum += p[off + best];
        }
        if (norm) {
            for (int s = 0; s < k; s++) {
                w[out + s] = (float) (w[out + s] / sum);
            }
        }
    }

    private static boolean taken(int[] sel, int out, int count, int i) {
        for (int s = 0; s < count; s++) {
            if (sel[out + s] == i) {
                return true;
            }
        }
        return false;
    }

    private static void copyRow(Tensor x, int row, float[] dst, int dstOff, int d) {
        float[] src = x.heapFloats();
        if (src != null && x.stride(1) == 1) {
            System.arraycopy(src, (int) (x.offset() + row * x.stride(0)), dst, dstOff, d);
            return;
        }
        long base = x.offset() + row * x.stride(0);
        for (int i = 0; i < d; i++) {
            dst[dstOff + i] = x.readFloat(base + i * x.stride(1));
        }
    }
}
