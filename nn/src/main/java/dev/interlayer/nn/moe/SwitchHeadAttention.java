package dev.interlayer.nn.moe;

import dev.interlayer.nn.Linear;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * SwitchHead attention (Csordás et al. 2024, "SwitchHead: Accelerating Transformers with Mixture-of-Experts
 * Attention"), as MoEUT uses it. Queries and keys come from the normalized stream n = LN1(x), values and
 * experts from the raw stream x:
 * <pre>
 *   q = dh^(−1/4)·n·W_qᵀ,  k = dh^(−1/4)·n·W_kᵀ,  RoPE (half pairing) on the first rotaryDim dims of each head
 *   per head h:  gV = σ(W_selV[h]·n) over n_e experts, K_V = top-k;  v_h = Σ_{e∈K_V} gV_e·(x·V_{h,e}ᵀ)
 *                o_h = softmax(q_h·K_hᵀ, causal) · V_h                     (scale 1: q and k carry it)
 *                gO = σ(W_selO[h]·n), K_O = top-k;  a += Σ_{e∈K_O} gO_e·(o_h·O_{h,e}ᵀ)
 *   n_e = 1:     v = x·W_vᵀ;  a = concat_h(σ(w_selO[h]·n)·o_h)·W_oᵀ
 * </pre>
 * Sigmoid gates are not renormalized; ties go to the lower expert index. The selected value and output
 * experts run grouped per head ({@link GroupedExperts}), so only selected expert weights are read.
 *
 * <p>Shapes: wq, wk [H·dh, d]; selV, selO [H·n_e, d] (row h·n_e + e); valueExperts H·n_e of [dh, d];
 * outputExperts H·n_e of [d, dh]; for n_e = 1 instead wv [H·dh, d], wo [d, H·dh], selO [H, d]; n, x, out [T, d].
 *
 * @param config        hyperparameters
 * @param wq            W_q
 * @param wk            W_k
 * @param selV          value-expert selection (null when n_e = 1)
 * @param selO          output-expert selection, or the per-head output gate when n_e = 1
 * @param valueExperts  V_{h,e} (empty when n_e = 1)
 * @param outputExperts O_{h,e} (empty when n_e = 1)
 * @param wv            dense values (n_e = 1 only, else null)
 * @param wo            dense output (n_e = 1 only, else null)
 */
public record SwitchHeadAttention(SwitchHeadConfig config, Linear wq, Linear wk, Linear selV, Linear selO,
                                  List<Linear> valueExperts, List<Linear> outputExperts, Linear wv, Linear wo) {
    /**
     * Checks every shape against the config.
     *
     * @throws ShapeMismatchException  if a projection has the wrong shape
     * @throws IllegalArgumentException if the n_e-specific fields are missing or given for the wrong n_e
     */
    public SwitchHeadAttention {
        int d = config.hidden(), h = config.heads(), dh = config.headDim(), ne = config.numExperts();
        wq.requireShape("SwitchHead wq", h * dh, d);
        wk.requireShape("SwitchHead wk", h * dh, d);
        valueExperts = valueExperts == null ? List.of() : List.copyOf(valueExperts);
        outputExperts = outputExperts == null ? List.of() : List.copyOf(outputExperts);
        if (ne == 1) {
            if (wv == null || wo == null || selV != null || !valueExperts.isEmpty() || !outputExperts.isEmpty()) {
                throw new IllegalArgumentException("SwitchHead with one expert per head takes wv, wo and selO only");
            }
            wv.requireShape("SwitchHead wv", h * dh, d);
            wo.requireShape("SwitchHead wo", d, h * dh);
            selO.requireShape("SwitchHead output gate selO", h, d);
        } else {
            if (wv != null || wo != null || selV == null || valueExperts.size() != h * ne
                    || outputExperts.size() != h * ne) {
                throw new IllegalArgumentException("SwitchHead with " + ne + " experts per head takes selV, selO and "
                        + h * ne + " value and output experts (no wv/wo); got " + valueExperts.size() + " and "
                        + outputExperts.size());
            }
            selV.requireShape("SwitchHead selV", h * ne, d);
            selO.requireShape("SwitchHead selO", h * ne, d);
            for (int i = 0; i < h * ne; i++) {
                valueExperts.get(i).requireShape("SwitchHead value expert " + i, dh, d);
                outputExperts.get(i).requireShape("SwitchHead output expert " + i, d, dh);
            }
        }
    }

    /** SwitchHead with n_e &gt; 1 value and output experts per head. */
    public static SwitchHeadAttention withExperts(SwitchHeadConfig c, Linear wq, Linear wk, Linear selV, Linear selO,
                                                  List<Linear> valueExperts, List<Linear> outputExperts) {
        return new SwitchHeadAttention(c, wq, wk, selV, selO, valueExperts, outputExperts, null, null);
    }

    /** SwitchHead with n_e = 1: dense values and output, sigmoid output gate per head. */
    public static SwitchHeadAttention gatedHeads(SwitchHeadConfig c, Linear wq, Linear wk, Linear wv, Linear wo,
                                                 Linear outputGate) {
        return new SwitchHeadAttention(c, wq, wk, null, outputGate, null, null, wv, wo);
    }

    /** A session's key/value store and scratch for calls of up to maxTokens tokens. */
    public State newState(int maxTokens) {
        return new State(this, maxTokens);
    }

    /**
     * out = SwitchHead(n, x) for the T new tokens at positions length()..length()+T−1, appending their keys and
     * values to the session's store.
     *
     * @throws ShapeMismatchException if n, x, out are not all [T, d]
     * @throws IllegalStateException  if the store would exceed the context length
     */
    public void forward(Tensor normed, Tensor x, Tensor out, State st) {
        SwitchHeadConfig c = config;
        int t = x.dim(0), d = c.hidden(), w = c.qDim(), past = st.length;
        if (x.rank() != 2 || x.dim(1) != d || !x.shape().equals(out.shape()) || !x.shape().equals(normed.shape())) {
            throw ShapeMismatchException.of("SwitchHeadAttention.forward", "normed, x and out must be [T, " + d + "]",
                    normed.shape(), x.shape());
        }
        if (past + t > c.contextLength()) {
            throw new IllegalStateException("SwitchHead: " + past + " cached + " + t + " new positions exceed the "
                    + "context length " + c.contextLength());
        }
        float scale = (float) Math.pow(c.headDim(), -0.25);
        Tensor q = st.q.rows(t), k = st.k.rows(t);
        wq.apply(normed, q);
        wk.apply(normed, k);
        Ops.scale(q, scale, q);
        Ops.scale(k, scale, k);
        st.rope(st.q.data(), st.k.data(), t, past);
        System.arraycopy(st.k.data(), 0, st.keys, past * w, t * w);
        // ---- values of the new tokens ----
        float[] v = st.v.data();
        if (c.numExperts() == 1) {
            wv.apply(x, st.v.rows(t));
        } else {
            Arrays.fill(v, 0, t * w, 0f);
            State.ExpertMix m = st.valueMix;
            selectPerHead(st, selV, normed, m);
            for (int h = 0; h < c.heads(); h++) {
                st.head = h;
                m.groups.run(m.routing[h], x, 0, m.expert, v, 0, w, h * c.headDim());
            }
        }
        System.arraycopy(v, 0, st.values, past * w, t * w);
        // ---- causal attention per head over the store ----
        float[] o = st.o.data(), qa = st.q.data(), sc = st.scores;
        Arrays.fill(o, 0, t * w, 0f);
        for (int i = 0; i < t; i++) {
            int n = past + i + 1;
            for (int h = 0; h < c.heads(); h++) {
                int off = i * w + h * c.headDim();
                Ops.dotRows(qa, off, st.keys, h * c.headDim(), w, n, c.headDim(), 1f, sc, 0);
                RouterMath.softmax(sc, 0, sc, 0, n);
                Ops.addWeightedRows(sc, 0, st.values, h * c.headDim(), w, n, c.headDim(), o, off);
            }
        }
        st.length += t;
        // ---- output ----
        if (c.numExperts() == 1) {
            Tensor g = st.selection.rows(t);
            selO.apply(normed, g);
            float[] ga = st.selection.data();
            for (int i = 0; i < t; i++) {
                for (int h = 0; h < c.heads(); h++) {
                    float gate = RouterMath.sigmoid(ga[i * st.selection.cols() + h]);
                    int off = i * w + h * c.headDim();
                    for (int j = off; j < off + c.headDim(); j++) {
                        o[j] *= gate;
                    }
                }
            }
            wo.apply(st.o.rows(t), out);
            return;
        }
        boolean direct = out.heapFloats() != null && out.isContiguous() && !out.isReadOnly();
        float[] acc = direct ? out.heapFloats() : st.acc.data();
        int accOff = direct ? Math.toIntExact(out.segment().address() / Float.BYTES + out.offset()) : 0;
        Arrays.fill(acc, accOff, accOff + t * d, 0f);
        State.ExpertMix m = st.outputMix;
        selectPerHead(st, selO, normed, m);
        Tensor ot = st.o.rows(t);
        for (int h = 0; h < c.heads(); h++) {
            st.head = h;
            m.groups.run(m.routing[h], ot, h * c.headDim(), m.expert, acc, accOff, d, 0);
        }
        if (!direct) {
            out.copyFrom(st.acc.rows(t));
        }
    }

    // per head h: logits = sel rows [h·n_e, (h+1)·n_e) applied to n; sigmoid top-k, no renormalization
    private void selectPerHead(State st, Linear sel, Tensor normed, State.ExpertMix m) {
        int t = normed.dim(0), ne = config.numExperts();
        m.stats.reset(config.topK());
        sel.apply(normed, st.selection.rows(t));
        float[] all = st.selection.data();
        for (int h = 0; h < config.heads(); h++) {
            Routing r = m.routing[h];
            r.begin(t);
            for (int i = 0; i < t; i++) {
                System.arraycopy(all, i * st.selection.cols() + h * ne, r.logits(), i * ne, ne);
                TopKRouter.select(r, i, config.topK(), TopKRouter.Score.SIGMOID, false, st.idx);
            }
            RoutedMoe.accumulate(m.stats, r);
        }
    }

    /** Key/value store of one session (or one MoEUT execution step) and the scratch of one call. */
    public static final class State {
        private final SwitchHeadConfig c;
        private final float[] keys;     // [context, H·dh] roped, scaled keys
        private final float[] values;   // [context, H·dh]
        private final RowBuffer q, k, v, o; // [maxTokens, H·dh]
        private final RowBuffer selection;  // [maxTokens, H·n_e] selection logits (or [maxTokens, H] gates)
        private final RowBuffer acc;        // [maxTokens, d]
        private final float[] scores;       // [context]
        private final float[] cos, sin;     // [rotaryDim/2] one position's rotation
        private final Rope rope;
        private final int[] idx;
        private final ExpertMix valueMix, outputMix;
        private int head;   // head whose experts the grouped runs apply
        private int length; // positions in the store

        private State(SwitchHeadAttention a, int maxTokens) {
            c = a.config;
            int w = c.qDim(), ne = c.numExperts();
            keys = new float[c.contextLength() * w];
            values = new float[c.contextLength() * w];
            q = new RowBuffer(maxTokens, w);
            k = new RowBuffer(maxTokens, w);
            v = new RowBuffer(maxTokens, w);
            o = new RowBuffer(maxTokens, w);
            selection = new RowBuffer(maxTokens, ne == 1 ? c.heads() : c.heads() * ne);
            acc = new RowBuffer(maxTokens, c.hidden());
            scores = new float[c.contextLength()];
            rope = Rope.standard(c.headDim(), c.rotaryDim(), c.ropeTheta(), Rope.Pairing.HALF_SPLIT);
            cos = new float[c.rotaryDim() / 2];
            sin = new float[c.rotaryDim() / 2];
            idx = new int[c.topK()];
            valueMix = new ExpertMix(a.valueExperts, maxTokens, c.hidden(), c.headDim());
            outputMix = new ExpertMix(a.outputExperts, maxTokens, c.headDim(), c.hidden());
        }

        // One mixture of experts per head (the values' or the outputs'): each head's routing, the grouped kernel
        // that runs the selected experts of head `head`, and the selection statistics over all (head, token) pairs.
        private final class ExpertMix {
            final Routing[] routing; // per head
            final GroupedExperts groups;
            final GroupedExperts.Expert expert;
            final RouterStats stats;

            // experts: H·n_e maps of [out, in], expert e of head h at h·n_e + e
            ExpertMix(List<Linear> experts, int maxTokens, int in, int out) {
                int ne = c.numExperts();
                routing = new Routing[c.heads()];
                for (int h = 0; h < c.heads(); h++) {
                    routing[h] = new Routing(ne, maxTokens, maxTokens * c.topK());
                }
                groups = new GroupedExperts(ne, maxTokens * c.topK(), maxTokens, in, out);
                expert = (e, x, y) -> experts.get(head * ne + e).apply(x, y);
                stats = new RouterStats(ne, c.topK());
            }
        }

        /** Positions in the key/value store. */
        public int length() {
            return length;
        }

        /** Empties the store (a new sequence). */
        public void reset() {
            length = 0;
        }

        /** Value-expert selection statistics of the last call, over all (head, token) pairs. */
        public RouterStats valueStats() {
            return valueMix.stats;
        }

        /** Output-expert selection statistics of the last call, over all (head, token) pairs. */
        public RouterStats outputStats() {
            return outputMix.stats;
        }

        // rotates pairs (j, j + rotaryDim/2) of every head of the t rows of q and k, in place; angle p·invFreq[j]
        private void rope(float[] qa, float[] ka, int t, int past) {
            int half = rope.rotaryDim() / 2, w = c.qDim();
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < half; j++) {
                    double ang = (double) (past + i) * rope.invFreq(j);
                    cos[j] = (float) Math.cos(ang);
                    sin[j] = (float) Math.sin(ang);
                }
                for (int base = i * w; base < (i + 1) * w; base += c.headDim()) {
                    for (int j = 0; j < half; j++) {
                        rotate(qa, base + j, base + j + half, cos[j], sin[j]);
                        rotate(ka, base + j, base + j + half, cos[j], sin[j]);
                    }
                }
            }
        }

        private static void rotate(float[] a, int i0, int i1, float cs, float sn) {
            float x0 = a[i0], x1 = a[i1];
            a[i0] = x0 * cs - x1 * sn;
            a[i1] = x1 * cs + x0 * sn;
        }
    }
}
