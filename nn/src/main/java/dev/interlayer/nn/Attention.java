package dev.interlayer.nn;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.function.IntConsumer;

/**
 * Multi-head self-attention (Vaswani et al. 2017, "Attention Is All You Need") with grouped KV heads (GQA):
 * q = x·Wqᵀ, k = x·Wkᵀ, v = x·Wvᵀ (optional biases) → optional QK-norm → RoPE on q, k → append k, v
 * to the cache → per query head h with g = h / (Hq/Hkv): s_j = softcap((q·K_j)·τ) − m_h·|pos_i − pos_j|
 * (ALiBi), masked (causal: pos_j ≤ pos_i; sliding window: |pos_i − pos_j| &lt; W; key padding) to −∞,
 * p = softmax(s), o_h = Σ_j p_j·V_j → y = concat_h(o_h)·Woᵀ (+bo). A fully masked query row yields o = 0.
 * Positions are the cache length onward, or supplied by the caller per token; a sliding-window layer may
 * keep its keys in a ring of rows ({@link KvCache#withSlidingRings}).
 *
 * <p>Shapes: wq [Hq·dh, d]; wk, wv [Hkv·dh, d]; wo [d, Hq·dh]; qNorm [dh] (HEAD) or [Hq·dh] (FLAT);
 * kNorm [dh] or [Hkv·dh]; x, out [T, d].
 *
 * <p>NaN in x propagates to the outputs of every query that sees the affected key (no exception).
 *
 * @param config hyperparameters
 * @param wq     query projection [Hq·dh, d]
 * @param wk     key projection [Hkv·dh, d]
 * @param wv     value projection [Hkv·dh, d]
 * @param wo     output projection [d, Hq·dh]
 * @param qNorm  QK-norm for queries, or null when config.qkNorm() = NONE
 * @param kNorm  QK-norm for keys, or null when config.qkNorm() = NONE
 */
public record Attention(AttentionConfig config, Linear wq, Linear wk, Linear wv, Linear wo, Norm qNorm,
                        Norm kNorm) {
    /**
     * Checks every projection against the config and that the QK norms match {@code config.qkNorm()}.
     *
     * @throws ShapeMismatchException  if a projection or norm has the wrong shape
     * @throws IllegalArgumentException if qNorm/kNorm are given or missing against {@code config.qkNorm()}
     */
    public Attention {
        int d = config.hidden();
        wq.requireShape("Attention wq", config.qDim(), d);
        wk.requireShape("Attention wk", config.kvDim(), d);
        wv.requireShape("Attention wv", config.kvDim(), d);
        wo.requireShape("Attention wo", d, config.qDim());
        switch (config.qkNorm()) {
            case NONE -> {
                if (qNorm != null || kNorm != null) {
                    throw new IllegalArgumentException("Attention: qNorm/kNorm given but config.qkNorm = NONE");
                }
            }
            case HEAD -> {
                requireNorm("qNorm", qNorm, config.headDim());
                requireNorm("kNorm", kNorm, config.headDim());
            }
            case FLAT -> {
                requireNorm("qNorm", qNorm, config.qDim());
                requireNorm("kNorm", kNorm, config.kvDim());
            }
        }
    }

    private static void requireNorm(String field, Norm n, int dim) {
        if (n == null || n.dim() != dim) {
            throw new ShapeMismatchException("Attention " + field + ": need a norm of width " + dim + ", got "
                    + (n == null ? "null" : "width " + n.dim()));
        }
    }

    /** Attention without QK-norm. */
    public Attention(AttentionConfig config, Linear wq, Linear wk, Linear wv, Linear wo) {
        this(config, wq, wk, wv, wo, null, null);
    }

    /** Per-session buffers and derived tables for this layer, writing into layer {@code layer} of {@code cache}. */
    public State newState(KvCache cache, int layer, int maxTokens) {
        return new State(this, cache, layer, maxTokens, null, false);
    }

    /** As {@link #newState(KvCache, int, int)}, taking its temporaries from {@code pool} (null = private ones). */
    public State newState(KvCache cache, int layer, int maxTokens, ScratchPool pool) {
        return new State(this, cache, layer, maxTokens, pool, false);
    }

    /**
     * A state that attends to layer {@code layer} of {@code cache} as another layer wrote it earlier in the same
     * call ("Reducing Transformer Key-Value Cache Size with Cross-Layer Attention", Brandon et al.): forward
     * projects only queries and writes nothing to the cache; wk and wv are unused and no key or value buffers
     * are allocated. Its forward throws IllegalStateException unless the source layer wrote the chunk's entries.
     */
    public State newSharedState(KvCache cache, int layer, int maxTokens) {
        return new State(this, cache, layer, maxTokens, null, true);
    }

    /**
     * out = Attention(x) for a chunk at the implicit positions [cache.length(), cache.length() + T); same as
     * {@link #forward(Tensor, Tensor, State, int[])} with those positions.
     *
     * @throws IllegalStateException  if the chunk would pass the context length
     * @throws ShapeMismatchException unless x and out are [T, d] with 1 ≤ T ≤ maxTokens
     */
    public void forward(Tensor x, Tensor out, State st) {
        forward(x, out, st, null);
    }

    /**
     * out = Attention(x) for a chunk whose token i is at position positions[i] (null = implicit positions
     * [cache.length(), cache.length() + T)): RoPE rotates by that position, ALiBi uses |pos_q − pos_k|, and a
     * key at position pk is visible to a query at pq iff pk ≤ pq (causal) and |pq − pk| &lt; W (window). Writes
     * this layer's keys, values and positions at cache entries [cache.length(), cache.length() + T) (the owner
     * advances the cache afterwards); every layer sharing the cache must get the same positions for a chunk.
     * Positions need not be contiguous or increasing (left padding, packed or speculative tokens); a query
     * sees every cached entry whose position passes the mask, including later entries of the same chunk at
     * lower positions. Implicit positions scan only the window; explicit irregular ones scan all retained
     * entries. Modifies {@code out} (must not alias {@code x}) and the state.
     *
     * @param positions [T] positions in [0, cache.contextLength()), or null; read, not kept
     * @throws IllegalStateException    if the chunk would pass the context length, or a sliding-window ring
     *                                  already overwrote a key a query of this chunk could see
     * @throws IllegalArgumentException if positions has a length other than T or a position outside
     *                                  [0, contextLength), or T exceeds what the layer's ring accepts per call
     * @throws ShapeMismatchException   unless x and out are [T, d] with 1 ≤ T ≤ maxTokens
     */
    public void forward(Tensor x, Tensor out, State st, int[] positions) {
        if (st.layerRef != this) {
            throw new IllegalArgumentException("Attention.forward: state was made for a different layer");
        }
        int d = config.hidden();
        if (x.rank() != 2 || x.dim(1) != d || !x.shape().equals(out.shape())) {
            throw ShapeMismatchException.of("Attention.forward", "x and out must be [T, " + d + "]", x.shape(),
                    out.shape());
        }
        int t = x.dim(0);
        int maxPos = begin(st, positions, t);
        // q, k, v share x: one call so a decode row runs the three matvecs as one parallel region
        // (one fork/join instead of three); biases are added afterwards. A shared-cache state projects q only.
        Tensor[] outs = st.projOut;
        outs[0] = st.q.rows(t);
        if (outs.length == 3) {
            outs[1] = st.k.rows(t);
            outs[2] = st.v.rows(t);
        }
        Ops.matmulT(x, st.projW, outs);
        prepare(st, maxPos, t);
        attendAndProject(st, t, out);
    }

    /**
     * As {@link #forward(Tensor, Tensor, State)} with queries, keys and values projected from three inputs,
     * q = xq·Wqᵀ, k = xk·Wkᵀ, v = xv·Wvᵀ ("MUDDFormer", Xiao et al.: decoupled Q/K/V input streams), at the
     * implicit positions.
     *
     * @throws ShapeMismatchException unless xq, xk, xv and out are all [T, d]
     */
    public void forward(Tensor xq, Tensor xk, Tensor xv, Tensor out, State st) {
        if (st.layerRef != this || st.projOut.length != 3) {
            throw new IllegalArgumentException("Attention.forward: state was made for a different layer or reads a"
                    + " shared cache");
        }
        if (xq.rank() != 2 || xq.dim(1) != config.hidden() || !xq.shape().equals(out.shape())
                || !xq.shape().equals(xk.shape()) || !xq.shape().equals(xv.shape())) {
            throw new ShapeMismatchException("Attention.forward: xq, xk, xv and out must be [T, " + config.hidden()
                    + "], got " + xq.shape() + ", " + xk.shape() + ", " + xv.shape() + ", " + out.shape());
        }
        int t = xq.dim(0);
        int maxPos = begin(st, null, t);
        Ops.matmulT(xq, wq.weight(), st.q.rows(t));
        Ops.matmulT(xk, wk.weight(), st.k.rows(t));
        Ops.matmulT(xv, wv.weight(), st.v.rows(t));
        prepare(st, maxPos, t);
        attendAndProject(st, t, out);
    }

    // The core over the prepared call (one task per KV head for a decode row, else per query head), then Wo.
    private void attendAndProject(State st, int t, Tensor out) {
        if (t == 1) {
            ComputePool.parallelFor(config.kvHeads(), st.groupTask); // decode: one task per KV head
        } else {
            ComputePool.parallelFor(config.heads(), st.headTask);
        }
        wo.apply(st.o.rows(t), out);
    }

    // Checks that a chunk of t tokens at these positions (null = implicit) fits the cache and key mask, stages
    // its positions (nothing else is written) and returns the largest one.
    int begin(State st, int[] positions, int t) {
        KvCache cache = st.cache;
        cache.requireRoom(t);
        int past = cache.length();
        if (positions != null) {
            cache.checkPositions("Attention.forward", positions, t);
        }
        if (st.keyMask != null && st.keyMask.length < past + t) {
            throw new IllegalArgumentException("key padding mask covers " + st.keyMask.length
                    + " positions but the chunk reaches position " + (past + t - 1));
        }
        if (st.shared) {
            cache.requireWritten(st.layer, past, t);
        }
        return st.stage(positions, t);
    }

    // With the chunk's projections in st.q, st.k, st.v rows [0, t): biases, QK-norm, RoPE, keys and values into
    // cache entries [past, past + t), the core's call set up. Single and batched forward both run exactly this.
    void prepare(State st, int maxPos, int t) {
        AttentionConfig c = config;
        KvCache cache = st.cache;
        int past = cache.length();
        Tensor q = st.q.rows(t);
        boolean own = !st.shared;   // a shared-cache state has no keys or values of its own (k, v are null)
        wq.addBias(q);
        if (own) {
            wk.addBias(st.k.rows(t));
            wv.addBias(st.v.rows(t));
        }
        if (c.qkNorm() == QkNorm.HEAD) {
            Tensor qh = st.qHeads.get(t);
            qNorm.apply(qh, qh);
            if (own) {
                kNorm.apply(st.kHeads.get(t), st.kHeads.get(t));
            }
        } else if (c.qkNorm() == QkNorm.FLAT) {
            qNorm.apply(q, q);
            if (own) {
                kNorm.apply(st.k.rows(t), st.k.rows(t));
            }
        }
        if (own && st.kvTransform != null) {
            st.kvTransform.apply(st.k.data(), st.v.data(), past, t);
        }
        if (c.positions() == PositionEncoding.ROPE) {
            st.ropeRows.rotate(st.ropeFor(maxPos + 1), cache.positions, past, t, st.q.data(), c.heads(),
                    own ? st.k.data() : null, c.kvHeads(), c.headDim());
        }
        if (own) {
            cache.write(st.layer, st.k.data(), st.v.data(), past, t);   // in the cache's KvType
        }
        st.tokens = t;
        st.past = past;
    }

    /**
     * Session state of one attention layer: scratch buffers, score rows, RoPE table, ALiBi slopes,
     * and an optional key padding mask. Preallocated so decode does not allocate (except dynamic-NTK
     * RoPE past its original length, which rebuilds the table per call; below it the table is fixed).
     */
    public static final class State {
        private final Attention layerRef;
        private final KvCache cache;
        private final int layer;
        final RowBuffer q;              // [maxTokens, Hq·dh]
        final RowBuffer k;              // [maxTokens, Hkv·dh]
        final RowBuffer v;              // [maxTokens, Hkv·dh]
        final RowBuffer o;              // [maxTokens, Hq·dh]
        private final HeadViews qHeads; // q rows(t) as [t, Hq, dh]
        private final HeadViews kHeads; // k rows(t) as [t, Hkv, dh]
        private float[][] scores;       // [Hq][cache rows (+ persistent slots)] scores of the entries one query scans
        private final float[][] tiles;  // [Hq][KvRows.TILE·dh] widened F16/Q8_0 cache rows; null for F32
        private final RopeRows ropeRows; // RoPE scratch
        private final boolean shared;   // attends to another layer's cache entries; projects and writes no K, V
        private KvTransform kvTransform; // change to new keys/values before RoPE, or null
        private PersistentSlots memory; // persistent key/value slots per query head, or null
        private final Rope staticRope;  // table while past + T <= staticRopeUpTo; null for NONE/ALIBI
        private final int staticRopeUpTo; // dynamic NTK: originalMax (the table depends on length past it)
        private final float[] slopes;   // [Hq] for ALiBi, else null
        private final IntConsumer headTask = this::head;
        private final IntConsumer groupTask = this::decodeGroup;
        private final Tensor[] projW;   // {wq, wk, wv} weights, for the shared-input matmulT
        private final Tensor[] projOut; // {q, k, v} row views of the current call, reset per call
        private boolean[] keyMask;      // [≥ cache entries] true = attend, or null
        private int tokens, past;       // current call
        private int first;              // current call: first cache entry the ring still holds
        private boolean regular;        // current call: every entry's position equals its index

        // whether this state belongs to layer a (a session made for another stack does not)
        boolean madeFor(Attention a) {
            return layerRef == a;
        }

        // the last call's concatenated head outputs [t, Hq·dh] (the output projection's input)
        Tensor context(int t) {
            return o.rows(t);
        }

        private State(Attention a, KvCache cache, int layer, int maxTokens, ScratchPool pool, boolean shared) {
            AttentionConfig c = a.config;
            cache.requireServes(layer, c);
            this.layerRef = a;
            this.cache = cache;
            this.layer = layer;
            int mt = Math.min(maxTokens, cache.contextLength());
            this.shared = shared;
            this.projW = shared ? new Tensor[] {a.wq.weight()} : new Tensor[] {a.wq.weight(), a.wk.weight(),
                    a.wv.weight()};
            this.projOut = new Tensor[projW.length];
            this.q = ScratchPool.rows(pool, "attention q", mt, c.qDim());
            this.k = shared ? null : ScratchPool.rows(pool, "attention k", mt, c.kvDim());
            this.v = shared ? null : ScratchPool.rows(pool, "attention v", mt, c.kvDim());
            this.o = ScratchPool.rows(pool, "attention o", mt, c.qDim());
            this.qHeads = new HeadViews(q, c.heads(), c.headDim());
            this.kHeads = shared ? null : new HeadViews(k, c.kvHeads(), c.headDim());
            this.scores = ScratchPool.matrix(pool, "attention scores", c.heads(), cache.rows(layer));
            this.tiles = cache.type() == KvType.F32 ? null
                    : ScratchPool.matrix(pool, "attention kv tile", c.heads(), KvRows.TILE * c.headDim());
            int half = c.positions() == PositionEncoding.ROPE ? c.rope().rotaryDim(c.headDim()) / 2 : 0;
            this.ropeRows = new RopeRows(half);
            this.staticRope = c.positions() == PositionEncoding.ROPE ? c.rope().table(c.headDim(), 0) : null;
            // invFreq(headDim, seqLen) equals invFreq(headDim, 0) while seqLen <= originalMax
            this.staticRopeUpTo = staticRope != null && c.rope().scaling() instanceof RopeScaling.DynamicNtk ntk
                    ? ntk.originalMax() : Integer.MAX_VALUE;
            this.slopes = c.positions() == PositionEncoding.ALIBI ? Alibi.slopes(c.heads(), c.alibiMaxBias()) : null;
        }

        /**
         * Sets the key padding mask over cache entries (true = real token, false = padding, never attended),
         * or null for none; entry j is the j-th token appended (position j under implicit positions). The
         * array is read, not copied, on every call.
         */
        public void setKeyMask(boolean[] valid) {
            this.keyMask = valid;
        }

        /** Installs a change to the new keys and values before RoPE and the cache write (null = none). */
        public void setKvTransform(KvTransform transform) {
            this.kvTransform = transform;
        }

        /**
         * Adds N persistent key/value slots per query head to every query's softmax (no position term, never
         * masked; see {@link PersistentSlots}), or removes them with null. Copies the vectors.
         *
         * @param keys   [Hq, N, dh]
         * @param values [Hq, N, dh]
         * @throws ShapeMismatchException unless keys and values are both [Hq, N, dh]
         */
        public void setPersistentMemory(Tensor keys, Tensor values) {
            memory = PersistentSlots.ofOrNone(keys, values, layerRef.config);
            scores = new float[layerRef.config.heads()][cache.rows(layer) + (memory == null ? 0 : memory.slots)];
        }

        /**
         * Records the positions of the next chunk's cache entries and checks that this layer can run it: the
         * chunk fits the ring, and no query could see a key the ring drops. Writes nothing but positions
         * (a refused chunk leaves the cache's keys and values intact); a stack stages every layer before any
         * layer runs. Returns the largest position of the chunk.
         *
         * @throws IllegalArgumentException if T exceeds what this layer's ring accepts per call
         * @throws IllegalStateException    if a query could see a key the ring no longer holds
         */
        int stage(int[] positions, int t) {
            AttentionConfig c = layerRef.config;
            int past = cache.length();
            int ringRows = cache.rows(layer), w = c.window();
            boolean ring = cache.isRing(layer);
            if (ring && t > ringRows - w + 1) {
                throw new IllegalArgumentException("Attention.forward: chunk of " + t + " tokens, but the ring of "
                        + ringRows + " rows for window " + w + " takes at most " + (ringRows - w + 1) + " per call");
            }
            // `regular` = every entry so far sits at the position equal to its index (fast path)
            int[] kpos = cache.positions;
            boolean reg = cache.regularBefore(past);
            int maxPos = 0;
            for (int i = 0; i < t; i++) {
                int p = positions == null ? past + i : positions[i];
                kpos[past + i] = p;
                reg &= p == past + i;
                maxPos = Math.max(maxPos, p);
            }
            first = Math.max(cache.oldestRetained(layer), past + t - ringRows); // first entry still in the ring
            regular = reg;
            if (ring && !reg) {
                cache.requireRetained(layer, first, past, t, w, c.causal());
            }
            return maxPos;
        }

        // Key at pk visible to a query at pq under the causal/window mask (by position).
        private static boolean visible(int pq, int pk, boolean causal, int w) {
            return !(causal && pk > pq) && (w == 0 || Math.abs(pq - pk) < w);
        }

        private Rope ropeFor(int seqLen) {
            AttentionConfig c = layerRef.config;
            return seqLen <= staticRopeUpTo ? staticRope : c.rope().table(c.headDim(), seqLen);
        }

        // ---- per-head attention core (runs on the compute pool) ----

        // Decode (one query row): the query heads of KV head g, h = g·G .. g·G + G − 1, in one task, so
        // the group's cached key and value rows are read while they are in cache. Same math and summation
        // order per head as head(h).
        void decodeGroup(int g) {
            AttentionConfig c = layerRef.config;
            int dh = c.headDim(), w = c.window(), gs = c.groupSize();
            int qslot = past;
            int hi = qslot; // causal or not, the last entry is this token
            int lo = !regular ? first : w > 0 ? Math.max(0, qslot - w + 1) : 0;
            assert lo >= first : "window entry " + lo + " already left the ring (first " + first + ")";
            for (int h = g * gs; h < (g + 1) * gs; h++) {
                attendRow(h, g * dh, h * dh, qslot, lo, hi, dh);
            }
        }

        private void head(int h) {
            AttentionConfig c = layerRef.config;
            int dh = c.headDim(), qDim = c.qDim(), w = c.window();
            int g = h / c.groupSize();
            boolean causal = c.causal();
            int last = past + tokens - 1;
            for (int i = 0; i < tokens; i++) {
                int qslot = past + i;
                int lo, hi;
                if (regular) { // entry j is at position j: scan only the visible range
                    hi = causal ? qslot : last;
                    lo = 0;
                    if (w > 0) {
                        lo = Math.max(0, qslot - w + 1);
                        if (!causal) {
                            hi = Math.min(hi, qslot + w - 1);
                        }
                    }
                    assert lo >= first : "window entry " + lo + " already left the ring (first " + first + ")";
                } else {   // explicit positions: every retained entry, masked by position
                    lo = first;
                    hi = last;
                }
                attendRow(h, g * dh, i * qDim + h * dh, qslot, lo, hi, dh);
            }
        }

        /**
         * One query row of head h (at qOff in q and o) against cache entries [lo, hi] of its KV head
         * (at kOff within a KV row): scores for the whole run (one {@link KvRows#dot} per contiguous stretch of
         * the ring), then masks, soft-cap and ALiBi, the softmax, and the weighted sum of value rows
         * ({@link KvRows#addWeighted}), scaled by 1/Σ. A fully masked row gives 0, not the NaN of a 0/0 softmax.
         */
        private void attendRow(int h, int kOff, int qOff, int qslot, int lo, int hi, int dh) {
            AttentionConfig c = layerRef.config;
            int w = c.window(), ringRows = cache.rows(layer);
            float tau = c.effectiveScale(), cap = c.softcap();
            float slope = slopes == null ? 0f : slopes[h];
            float[] sc = scores[h], qa = q.data(), oa = o.data();
            KvRows ka = cache.keyRows(layer), va = cache.valueRows(layer);
            float[] tile = tiles == null ? null : tiles[h];
            int[] pos = cache.positions;
            boolean[] mask = keyMask;
            boolean causal = c.causal(), reg = regular;
            PersistentSlots mem = memory;
            int n = Math.max(0, hi - lo + 1), row0 = lo % ringRows;
            int run1 = Math.min(n, ringRows - row0);      // entries before the ring wraps to row 0
            java.util.Arrays.fill(oa, qOff, qOff + dh, 0f);
            if (n == 0 && mem == null) {
                return;
            }
            ka.dot(qa, qOff, row0, run1, kOff, dh, tau, sc, 0, tile);
            if (run1 < n) {
                ka.dot(qa, qOff, 0, n - run1, kOff, dh, tau, sc, run1, tile);
            }
            int pq = pos[qslot];
            float max = Float.NEGATIVE_INFINITY;
            boolean plain = mask == null && reg && cap <= 0 && slope == 0f;
            for (int j = lo; j <= hi; j++) {
                float s = sc[j - lo];
                if (!plain) {
                    int pk = pos[j];
                    if ((mask != null && !mask[j]) || (!reg && !visible(pq, pk, causal, w))) {
                        sc[j - lo] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    if (cap > 0) {
                        s = (float) (cap * Math.tanh(s / cap));
                    }
                    if (slope != 0f) {
                        s -= slope * Math.abs(pq - pk);
                    }
                    sc[j - lo] = s;
                }
                max = Math.max(max, s);
            }
            if (mem != null) {   // persistent slots: scores after the cached entries', one softmax over both
                max = Math.max(max, mem.score(h, qa, qOff, tau, cap, sc, n));
            }
            if (max == Float.NEGATIVE_INFINITY) {
                return; // fully masked row: output 0 (softmax over no keys is undefined; 0, never NaN)
            }
            int total = n + (mem == null ? 0 : mem.slots);
            float inv = 1f / Ops.expShiftSum(sc, 0, max, sc, 0, total);   // SIMD exp, in place
            va.addWeighted(sc, 0, row0, run1, kOff, dh, oa, qOff, tile);
            if (run1 < n) {
                va.addWeighted(sc, run1, 0, n - run1, kOff, dh, oa, qOff, tile);
            }
            if (mem != null) {
                mem.addWeighted(h, sc, n, oa, qOff);
            }
            for (int i = qOff; i < qOff + dh; i++) {
                oa[i] *= inv;
            }
        }
    }
}
