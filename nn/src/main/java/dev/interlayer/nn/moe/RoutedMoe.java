package dev.interlayer.nn.moe;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.LinearTap;
import dev.interlayer.nn.Mlp;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.ScratchPool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * A mixture-of-experts layer with a pluggable {@link Router}: the router turns the selection input s
 * (usually the layer input x itself) into assignments (t, e, w_{t,e}), an optional {@link CapacityLimit}
 * drops assignments over capacity, and the selected experts run grouped ({@link GroupedExperts}):
 * <pre>
 *   WEIGHTED_SUM:    y_t = Σ_{e∈E_t} w_{t,e}·Expert_e(x_t)
 *   MIX_WITH_INPUT:  y_t = Σ_{e∈E_t} w_{t,e}·Expert_e(x_t) + (1 − Σ_{e∈E_t} w_{t,e})·x_t
 * </pre>
 * MIX_WITH_INPUT is the BASE layer output α·f_e(x) + (1 − α)·x (Lewis et al. 2021, "BASE Layers").
 * σ-MoE (Csordás et al.) routes on LN(x) but feeds the experts x: pass both to
 * {@link #forward(Tensor, Tensor, Tensor, Scratch)}.
 *
 * <p>Router statistics of every call are in {@link State#stats()}. Non-causal routing (a non-causal router,
 * or any capacity limit) is refused on a continuation call (RoutingContext past &gt; 0): incremental decoding
 * has no faithful definition there, so the error is explicit instead of silently different.
 *
 * <p>Shapes: x, out [T, d]; selection input [T, router.inputWidth()]; experts map [n, d] → [n, d] and all
 * have one shape (they share one scratch).
 *
 * @param router   the routing rule
 * @param experts  E experts
 * @param combine  how expert outputs form y
 * @param capacity capacity limit, or null for no dropping (the inference default)
 */
public record RoutedMoe(Router router, List<FeedForward> experts, Combine combine, CapacityLimit capacity)
        implements FeedForward {
    /** How the weighted expert outputs form the layer output. */
    public enum Combine {
        /** y = Σ w·Expert_e(x). */
        WEIGHTED_SUM,
        /** y = Σ w·Expert_e(x) + (1 − Σ w)·x (BASE layers). */
        MIX_WITH_INPUT
    }

    /**
     * Checks that there are E experts of one class and shape with equal input and output width.
     *
     * @throws IllegalArgumentException if the expert count differs from the router's or an argument is null
     * @throws ShapeMismatchException   if experts differ in class, width or intermediate size
     */
    public RoutedMoe {
        if (router == null || combine == null) {
            throw new IllegalArgumentException("RoutedMoe: router and combine must not be null");
        }
        experts = List.copyOf(experts);
        if (experts.size() != router.numExperts()) {
            throw new IllegalArgumentException("RoutedMoe: router has " + router.numExperts() + " experts but "
                    + experts.size() + " experts given");
        }
        if (capacity != null && !router.causal()) {
            throw new IllegalArgumentException("RoutedMoe: a capacity limit applies to token-choice routers, not to "
                    + router.getClass().getSimpleName());
        }
        FeedForward first = experts.get(0);
        for (int i = 1; i < experts.size(); i++) {
            FeedForward f = experts.get(i);
            if (f.getClass() != first.getClass() || f.hidden() != first.hidden()
                    || intermediate(f) != intermediate(first)) {
                throw new ShapeMismatchException("RoutedMoe expert " + i + ": must match expert 0 ("
                        + first.getClass().getSimpleName() + ", hidden " + first.hidden() + ", intermediate "
                        + intermediate(first) + "), got " + f.getClass().getSimpleName() + ", hidden " + f.hidden()
                        + ", intermediate " + intermediate(f));
            }
        }
    }

    /** A layer without capacity limit. */
    public RoutedMoe(Router router, List<FeedForward> experts, Combine combine) {
        this(router, experts, combine, null);
    }

    // experts share one scratch, which is sized by the intermediate width
    private static int intermediate(FeedForward f) {
        return f instanceof GatedMlp g ? g.intermediate() : f instanceof Mlp m ? m.up().out()
                : f instanceof BaseExpert b ? b.intermediate() : -1;
    }

    /** Whether outputs of a token depend only on that token (router causal and no capacity limit). */
    public boolean causal() {
        return router.causal() && capacity == null;
    }

    @Override
    public int hidden() {
        return experts.get(0).hidden();
    }

    /**
     * Scratch with a private routing context and no token ids: successive calls continue one sequence (so a
     * non-causal layer refuses the second call, as in token-by-token decoding) until
     * {@link State#startSequence()}.
     */
    @Override
    public State newScratch(int maxTokens) {
        return new State(this, maxTokens, null, null);
    }

    /** As {@link #newScratch(int)}, with the gather/expert/output buffers and the experts' scratch from the pool. */
    @Override
    public State newScratch(int maxTokens, ScratchPool pool) {
        return new State(this, maxTokens, null, pool);
    }

    /** Scratch reading the given context, which the caller begins once per model forward (shared by layers). */
    public State newScratch(int maxTokens, RoutingContext context) {
        return new State(this, maxTokens, context, null);
    }

    /** Per-session buffers of one layer and the router statistics of its last call. */
    public static final class State implements Scratch, GroupedExperts.Expert {
        private final List<FeedForward> experts;
        private final Routing routing;
        private final Object routerScratch;
        private final GroupedExperts grouped;
        private final Scratch expertScratch;
        private final RouterStats stats;
        private final RowBuffer acc;    // [maxTokens, d] output when out is not a heap row block
        private final float[] mixSum;   // [maxTokens] Σ kept weights per token (MIX_WITH_INPUT)
        private final int[] top1;       // [maxTokens]
        private final float[] xRow;     // [d] one input row (MIX_WITH_INPUT)
        private final int[] used;       // [E] capacity counters
        private final RoutingContext context;
        private final boolean ownContext;
        private int ownPast;            // tokens of the current sequence before this call (private context)
        private final int maxTokens;
        private Scratch[] slotScratch;  // per concurrent slot; [0] is expertScratch, the others made on first use
        private final ScratchPool pool; // the session's (null: private buffers)
        private int layer;              // the running call's layer index and tap (null: no reporting)
        private LinearTap tap;

        private State(RoutedMoe m, int maxTokens, RoutingContext shared, ScratchPool pool) {
            int e = m.router.numExperts(), d = m.hidden(), maxA = m.router.maxAssignments(maxTokens);
            experts = m.experts;
            routing = new Routing(e, maxTokens, maxA);
            routerScratch = m.router.newScratch(maxTokens);
            // experts run one after another: they share one scratch, and with a pool the session's other layers too
            grouped = new GroupedExperts(e, maxA, ScratchPool.rows(pool, "moe gathered tokens", maxTokens, d),
                    ScratchPool.rows(pool, "moe expert outputs", maxTokens, d), pool);
            expertScratch = m.experts.get(0).newScratch(maxTokens, pool);
            this.maxTokens = maxTokens;
            this.pool = pool;
            slotScratch = new Scratch[] {expertScratch};
            stats = new RouterStats(e, 1);
            acc = ScratchPool.rows(pool, "moe combined output", maxTokens, d);
            mixSum = new float[maxTokens];
            top1 = new int[maxTokens];
            xRow = new float[d];
            used = new int[e];
            ownContext = shared == null;
            context = ownContext ? new RoutingContext(maxTokens) : shared;
        }

        @Override
        public boolean prepareSlots(int slots) {
            if (tap != null) {
                return false; // taps collect per expert and need not be thread-safe
            }
            if (slotScratch.length < slots) {
                Scratch[] grown = java.util.Arrays.copyOf(slotScratch, slots);
                for (int i = slotScratch.length; i < slots; i++) {
                    // a sub-pool per slot: pooled buffers are shared by the session's layers, never by two threads
                    grown[i] = experts.get(0).newScratch(maxTokens, ScratchPool.child(pool, "moe expert slot " + i));
                }
                slotScratch = grown;
            }
            return true;
        }

        @Override
        public void apply(int expert, Tensor in, Tensor out, int slot) {
            experts.get(expert).forward(in, out, slotScratch[slot]);
        }

        @Override
        public void apply(int expert, Tensor in, Tensor out) {
            experts.get(expert).forward(in, out, expertScratch, layer, tap == null ? null : tap.forExpert(expert));
        }

        /** Router statistics of the last call. */
        public RouterStats stats() {
            return stats;
        }

        /** Whether the last call ran its experts concurrently (for tests). */
        boolean lastConcurrent() {
            return grouped.lastConcurrent();
        }

        /** The experts of the last concurrent call in the order they were handed out (for tests). */
        int[] concurrentOrder() {
            return grouped.concurrentOrder();
        }

        /** The grouped kernel's concurrent gather buffer (for tests). */
        RowBuffer allGathered() {
            return grouped.allGathered();
        }

        /** Slot i's expert scratch, null before it was made (for tests). */
        Scratch slotScratch(int i) {
            return i < slotScratch.length ? slotScratch[i] : null;
        }

        /** The routing of the last call (logits, scores, assignments). */
        public Routing routing() {
            return routing;
        }

        /** With a private context: the next call starts a new sequence (past = 0). */
        public void startSequence() {
            ownPast = 0;
        }

        /** The routing context this layer reads (private unless one was given). */
        public RoutingContext context() {
            return context;
        }
    }

    /** out = MoE(x), routing on x itself. */
    @Override
    public void forward(Tensor x, Tensor out, Scratch scratch) {
        forward(x, x, out, scratch);
    }

    /**
     * out = MoE(x) with the router reading {@code selection} instead of x.
     *
     * @throws ShapeMismatchException if x, out or the selection input have the wrong shape
     * @throws IllegalStateException  if routing is non-causal and the context says this call continues a sequence
     */
    public void forward(Tensor x, Tensor selection, Tensor out, Scratch scratch) {
        forward(x, selection, out, scratch, 0, null);
    }

    /** As {@link #forward(Tensor, Tensor, Scratch)}; each expert reports its routed rows to the tap under its index. */
    @Override
    public void forward(Tensor x, Tensor out, Scratch scratch, int layer, LinearTap tap) {
        forward(x, x, out, scratch, layer, tap);
    }

    /** As {@link #forward(Tensor, Tensor, Tensor, Scratch)}, reporting each expert's rows to the tap. */
    public void forward(Tensor x, Tensor selection, Tensor out, Scratch scratch, int layer, LinearTap tap) {
        State st = (State) scratch;
        st.layer = layer;
        st.tap = tap;
        try {
            route(x, selection, out, st);
        } finally {
            st.tap = null;
        }
    }

    private void route(Tensor x, Tensor selection, Tensor out, State st) {
        int t = x.dim(0), d = hidden();
        if (x.rank() != 2 || x.dim(1) != d || !x.shape().equals(out.shape())) {
            throw ShapeMismatchException.of("RoutedMoe.forward", "x and out must be [T, " + d + "]", x.shape(),
                    out.shape());
        }
        if (selection.rank() != 2 || selection.dim(0) != t
                || router.inputWidth() >= 0 && selection.dim(1) != router.inputWidth()) {
            throw ShapeMismatchException.of("RoutedMoe.forward", "selection input must be [T, "
                    + router.inputWidth() + "] for x [T, d]", selection.shape(), x.shape());
        }
        RoutingContext ctx = st.context;
        if (st.ownContext) {
            ctx.begin(null, t, st.ownPast);
        } else if (ctx.tokens() != t) {
            throw new IllegalStateException("RoutingContext was begun for " + ctx.tokens() + " tokens, layer called "
                    + "with " + t + ": call begin(ids, tokens, past) once per model forward");
        }
        if (!causal() && ctx.past() > 0) {
            throw new IllegalStateException("non-causal MoE routing (" + (router.causal() ? "capacity limit"
                    : router.getClass().getSimpleName()) + ") couples the tokens of a call; a continuation call "
                    + "(past = " + ctx.past() + ") has no faithful definition. Score full sequences in one call");
        }
        if (st.ownContext) {
            st.ownPast += t;
        }
        Routing r = st.routing;
        r.begin(t);
        router.route(selection, ctx, r, st.routerScratch);
        int k = router.maxAssignments(t) / t;
        if (capacity != null) {
            capacity.apply(r, k, st.used);
        }
        collectStats(st, ctx, capacity != null ? k : r.count() / (double) t);
        // ---- grouped expert execution into out (or acc when out is not a heap row block) ----
        boolean direct = out.heapFloats() != null && out.isContiguous() && !out.isReadOnly();
        float[] acc = direct ? out.heapFloats() : st.acc.data();
        int accOff = direct ? Math.toIntExact(out.segment().address() / Float.BYTES + out.offset()) : 0;
        Arrays.fill(acc, accOff, accOff + t * d, 0f);
        st.grouped.run(r, x, 0, st, acc, accOff, d, 0);
        if (combine == Combine.MIX_WITH_INPUT) {
            mixInput(st, x, acc, accOff, t, d);
        }
        if (capacity != null && capacity.policy() == CapacityLimit.DropPolicy.HF_SWITCH_PASSTHROUGH) {
            for (int a = 0; a < r.count(); a++) {
                if (r.dropped(a)) {
                    GroupedExperts.gatherRow(x, r.token(a), 0, st.xRow, 0, d);
                    Ops.axpy(r.weight(a), st.xRow, 0, acc, accOff + r.token(a) * d, d);
                }
            }
        }
        if (!direct) {
            out.copyFrom(st.acc.rows(t));
        }
    }

    private void collectStats(State st, RoutingContext ctx, double slotsPerToken) {
        Routing r = st.routing;
        int e = r.experts();
        st.stats.reset(slotsPerToken);
        accumulate(st.stats, r);
        for (int i = 0; i < r.tokens(); i++) {
            st.top1[i] = RouterMath.argmax(r.scores(), i * e, e);
        }
        st.stats.setSameTop1(ctx.updateTop1(st.top1));
    }

    /** Adds one routed call to the statistics: score rows, entropies, z-loss terms, kept and dropped assignments. */
    static void accumulate(RouterStats stats, Routing r) {
        int e = r.experts();
        float[] s = r.scores(), z = r.logits();
        for (int i = 0; i < r.tokens(); i++) {
            stats.addToken(s, i * e, RouterMath.entropy(s, i * e, e));
            if (r.hasLogits()) {
                stats.addLogits(z, i * e);
            }
        }
        for (int a = 0; a < r.count(); a++) {
            if (r.dropped(a)) {
                stats.addDropped();
            } else {
                stats.addSelection(r.expert(a));
            }
        }
    }

    // acc[t] += (1 − Σ_kept w_t)·x[t]
    private static void mixInput(State st, Tensor x, float[] acc, int accOff, int t, int d) {
        Routing r = st.routing;
        Arrays.fill(st.mixSum, 0, t, 0f);
        for (int a = 0; a < r.count(); a++) {
            if (!r.dropped(a)) {
                st.mixSum[r.token(a)] += r.weight(a);
            }
        }
        for (int i = 0; i < t; i++) {
            GroupedExperts.gatherRow(x, i, 0, st.xRow, 0, d);
            Ops.axpy(1f - st.mixSum[i], st.xRow, 0, acc, accOff + i * d, d);
        }
    }
}
