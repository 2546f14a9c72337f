package dev.interlayer.nn.moe;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.LinearTap;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.ScratchPool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Token-choice top-k mixture of experts (Shazeer et al. 2017, "Outrageously Large Neural Networks: The
 * Sparsely-Gated Mixture-of-Experts Layer"; as in Mixtral and Qwen2-MoE): z = u·W_rᵀ, s = softmax(z) (float32 or
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
        private final RowBuffer logits;   // [maxTokens, E] router logits, then probabilities
        private final int[] selected;     // [maxTokens * k] expert ids
        private final float[] weights;    // [maxTokens * k] combine weights
        private final int[] order;        // [maxTokens * k] slot ids grouped by expert
        private final int[] start;        // [E + 1] group starts in order
        private final int[] fill;         // [E] next free index per group
        private final RowBuffer gx;       // [maxTokens, d] gathered tokens of one expert
        private final RowBuffer gy;       // [maxTokens, d] that expert's outputs
        private final float[] topValues;  // [k] one token's top-k probabilities
        private final int[] topIndices;   // [k] their expert ids
        private final int maxTokens, d;
        private RowBuffer acc;            // [maxTokens, d] combined output, only when out is not a heap row block
        private final RowBuffer gate;     // [maxTokens, 1] shared-expert gate logits
        private final Scratch expertScratch;
        private final Scratch sharedScratch;
        private final RouterStats stats;

        private State(MoeFeedForward m, int maxTokens, ScratchPool pool) {
            int e = m.config.numExperts(), k = m.config.topK(), d = m.config.hidden();
            logits = ScratchPool.rows(pool, "moe router probabilities", maxTokens, e);
            selected = new int[maxTokens * k];
            weights = new float[maxTokens * k];
            order = new int[maxTokens * k];
            start = new int[e + 1];
            fill = new int[e];
            gx = ScratchPool.rows(pool, "moe gathered tokens", maxTokens, d);
            gy = ScratchPool.rows(pool, "moe expert outputs", maxTokens, d);
            topValues = new float[k];
            topIndices = new int[k];
            this.maxTokens = maxTokens;
            this.d = d;
            gate = ScratchPool.rows(pool, "moe shared gate", maxTokens, 1);
            // experts run one after another, then the shared expert: they may share temporaries too
            expertScratch = m.experts.get(0).newScratch(maxTokens, pool);
            sharedScratch = m.shared == null ? null : m.shared.newScratch(maxTokens, pool);
            stats = new RouterStats(e, k);
        }

        private RowBuffer acc() {
            if (acc == null) {
                acc = new RowBuffer(maxTokens, d);
            }
            return acc;
        }

        /** Router statistics of the last call. */
        public RouterStats stats() {
            return stats;
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
        int t = x.dim(0), d = config.hidden(), e = config.numExperts(), k = config.topK();
        if (x.rank() != 2 || x.dim(1) != d || !x.shape().equals(out.shape())) {
            throw ShapeMismatchException.of("MoeFeedForward.forward", "x and out must be [T, " + d + "]", x.shape(),
                    out.shape());
        }
        // ---- routing ----
        Tensor probs = st.logits.rows(t);
        router.apply(x, probs);
        float[] p = st.logits.data();
        st.stats.reset();
        for (int i = 0; i < t; i++) {
            softmaxInPlace(p, i * e, e);
            st.stats.addToken(p, i * e, entropy(p, i * e, e));
            topK(p, i * e, e, k, st.topValues, st.topIndices);
            double sum = 0;
            for (int s = 0; s < k; s++) {
                sum += st.topValues[s];
            }
            for (int s = 0; s < k; s++) {
                st.selected[i * k + s] = st.topIndices[s];
                st.weights[i * k + s] = config.normTopK() ? (float) (st.topValues[s] / sum) : st.topValues[s];
            }
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
        // ---- run each selected expert on its tokens; accumulate into out (acc if out is not a heap row block) ----
        float[] gx = st.gx.data(), gy = st.gy.data();
        boolean direct = out.heapFloats() != null && out.isContiguous() && !out.isReadOnly();
        float[] acc = direct ? out.heapFloats() : st.acc().data();
        int accOff = direct ? Math.toIntExact(out.segment().address() / Float.BYTES + out.offset()) : 0;
        Arrays.fill(acc, accOff, accOff + t * d, 0f);
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
            experts.get(j).forward(st.gx.rows(n), st.gy.rows(n), st.expertScratch, layer,
                    tap == null ? null : tap.forExpert(j));
            for (int r = 0; r < n; r++) {
                int slot = st.order[st.start[j] + r];
                Ops.axpy(st.weights[slot], gy, r * d, acc, accOff + (slot / k) * d, d);
            }
        }
        // ---- shared expert ----
        if (shared != null) {
            shared.forward(x, st.gy.rows(t), st.sharedScratch, layer,
                    tap == null ? null : tap.forExpert(LinearTap.SHARED_EXPERT));
            float[] g = st.gate.data();
            if (sharedGate != null) {
                sharedGate.apply(x, st.gate.rows(t));
            }
            for (int i = 0; i < t; i++) {
                float w = sharedGate == null ? 1f : (float) (1.0 / (1.0 + Math.exp(-g[i])));
                Ops.axpy(w, gy, i * d, acc, accOff + i * d, d);
            }
        }
        if (!direct) {
            out.copyFrom(st.acc().rows(t));
        }
    }

    // ---- routing helpers on one row of the session's logits array ----
    // E is small (4..256), so plain loops; Ops.softmax / Ops.topK allocate cursors, a row copy and a
    // lambda per call (~0.5 KB per MoE layer and token), which decode must not.

    // p[off..off+n) ← softmax(p[off..off+n)): max-shifted exp, summed in double. NaN anywhere gives NaN.
    private static void softmaxInPlace(float[] p, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) {
            max = Math.max(max, p[i]); // Math.max propagates NaN
        }
        double sum = 0;
        for (int i = off; i < off + n; i++) {
            float v = (float) Math.exp(p[i] - max);
            p[i] = v;
            sum += v;
        }
        float inv = (float) (1.0 / sum);
        for (int i = off; i < off + n; i++) {
            p[i] *= inv;
        }
    }

    // values/indices ← the k largest of p[off..off+n), best first; ties to the lower index, NaN last
    // (the Ops.topK contract). Selection by repeated scans: O(k·n) with k ≤ 8 in practice.
    private static void topK(float[] p, int off, int n, int k, float[] values, int[] indices) {
        for (int s = 0; s < k; s++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                if (taken(indices, s, i)) {
                    continue;
                }
                if (best < 0 || better(p[off + i], p[off + best])) {
                    best = i;
                }
            }
            indices[s] = best;
            values[s] = p[off + best];
        }
    }

    private static boolean taken(int[] indices, int count, int i) {
        for (int s = 0; s < count; s++) {
            if (indices[s] == i) {
                return true;
            }
        }
        return false;
    }

    // a ranks strictly above b: larger, or a number against NaN (equal values keep the earlier index)
    private static boolean better(float a, float b) {
        return Float.isNaN(b) ? !Float.isNaN(a) : a > b;
    }

    // −Σ s·log s over p[off..off+n) (a probability row), in double.
    private static double entropy(float[] p, int off, int n) {
        double h = 0;
        for (int i = 0; i < n; i++) {
            double s = p[off + i];
            if (s > 0) {
                h -= s * Math.log(s);
            }
        }
        return h;
    }

    private static void copyRow(Tensor x, int row, float[] dst, int dstOff, int d) {
        float[] src = x.heapFloats();
        if (src != null && x.stride(1) == 1) {
            // a heap segment may start inside its array (see Tensor.heapFloats)
            long base = x.segment().address() / Float.BYTES + x.offset();
            System.arraycopy(src, (int) (base + row * x.stride(0)), dst, dstOff, d);
            return;
        }
        long base = x.offset() + row * x.stride(0);
        for (int i = 0; i < d; i++) {
            dst[dstOff + i] = x.readFloat(base + i * x.stride(1));
        }
    }
}
