package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * One transformer block: attention and feed-forward sublayers combined per {@link NormPlacement},
 * sequential or parallel, with optional DeepNorm α and LayerNorm Scaling (see {@link BlockConfig}).
 *
 * <p>Which norms must be present: PRE: attnIn, ffnIn (parallel: ffnIn may be null to share attnIn,
 * as GPT-J); POST, OUTPUT: attnOut, ffnOut; PERI: all four; NONE: none.
 *
 * <p>Shapes: every norm [d]; x [T, d] (updated in place).
 *
 * @param config    block hyperparameters
 * @param attnIn    norm before attention, or null
 * @param attention the attention sublayer
 * @param attnOut   norm after attention (PERI/OUTPUT) or after the residual sum (POST), or null
 * @param ffnIn     norm before the feed-forward, or null
 * @param ffn       the feed-forward sublayer (dense or MoE)
 * @param ffnOut    norm after the feed-forward (PERI/OUTPUT) or after its residual sum (POST), or null
 */
public record TransformerBlock(BlockConfig config, Norm attnIn, Attention attention, Norm attnOut, Norm ffnIn,
                               FeedForward ffn, Norm ffnOut) {
    /**
     * Checks that the norms match the placement and that attention and FFN have the config's hidden size.
     *
     * @throws IllegalArgumentException if a part is null, a norm is missing or extra for the placement, or
     *                                  attention.config differs from config.attention
     * @throws ShapeMismatchException   if the FFN's hidden size differs from the block's
     */
    public TransformerBlock {
        if (config == null || attention == null || ffn == null) {
            throw new IllegalArgumentException("TransformerBlock: config, attention and ffn must not be null");
        }
        int d = config.hidden();
        if (!attention.config().equals(config.attention())) {
            throw new IllegalArgumentException("TransformerBlock: attention.config differs from config.attention");
        }
        if (ffn.hidden() != d) {
            throw new ShapeMismatchException("TransformerBlock: ffn hidden " + ffn.hidden() + " != hidden " + d);
        }
        NormPlacement p = config.placement();
        boolean in = p.hasInputNorm(), out = p.hasOutputNorm();
        norm("attnIn", attnIn, in, d, p);
        norm("ffnIn", ffnIn, in && !(config.parallel() && ffnIn == null), d, p);
        norm("attnOut", attnOut, out, d, p);
        norm("ffnOut", ffnOut, out, d, p);
    }

    private static void norm(String field, Norm n, boolean required, int d, NormPlacement p) {
        if (required && n == null) {
            throw new IllegalArgumentException("TransformerBlock: placement " + p + " needs norm " + field);
        }
        if (!required && n != null) {
            throw new IllegalArgumentException("TransformerBlock: placement " + p + " has no norm " + field
                    + " but one was given");
        }
        if (n != null && n.dim() != d) {
            throw new ShapeMismatchException("TransformerBlock " + field + ": width " + n.dim() + " != hidden " + d);
        }
    }

    /** Session state for this block writing into layer {@code layer} of {@code cache}. */
    public State newState(KvCache cache, int layer, int maxTokens) {
        return new State(this, cache, layer, maxTokens, null);
    }

    /**
     * As {@link #newState(KvCache, int, int)}, taking the temporaries of this block and its sublayers from
     * {@code pool}, shared with the session's other blocks (null = private ones).
     */
    public State newState(KvCache cache, int layer, int maxTokens, ScratchPool pool) {
        return new State(this, cache, layer, maxTokens, pool);
    }

    /**
     * x ← Block(x) for a chunk at the cache's next positions. Modifies {@code x} and the state.
     *
     * @throws ShapeMismatchException unless x is [T, d]
     */
    public void forward(Tensor x, State st) {
        forward(x, st, null);
    }

    /**
     * x ← Block(x) for a chunk whose token i is at position positions[i] (null = the cache's next positions);
     * see {@link Attention#forward(Tensor, Tensor, Attention.State, int[])}. Modifies {@code x} and the state.
     *
     * @throws ShapeMismatchException   unless x is [T, d]
     * @throws IllegalArgumentException if positions has a length other than T or a position outside the context
     */
    public void forward(Tensor x, State st, int[] positions) {
        forward(x, st, positions, 0, null);
    }

    // as above, reporting linear inputs to tap (when not null) as block `layer`
    void forward(Tensor x, State st, int[] positions, int layer, LinearTap tap) {
        int t = x.dim(0);
        run(x, st.u.rows(t), st.u2 == null ? null : st.u2.rows(t), st.a.rows(t), st.m.rows(t), st.ffn, st, positions,
                null, layer, tap);
    }

    /**
     * x ← Block(x) where row i is the next token of the sequence whose attention state is batch.states[i]
     * (one token each; see {@link BatchDecoder}): the same steps as {@link #forward(Tensor, State)}, with the
     * attention's per-sequence part on each sequence's state and the FFN on the batch's scratch.
     */
    void forwardBatch(Tensor x, BatchAttention batch, FeedForward.Scratch ffnScratch, RowBuffer u, RowBuffer u2,
                      RowBuffer a, RowBuffer m, int layer) {
        int n = x.dim(0);
        run(x, u.rows(n), u2 == null ? null : u2.rows(n), a.rows(n), m.rows(n), ffnScratch, null, null, batch, layer,
                null);
    }

    // The block's steps on x [t, d] with temporaries u, u2 (parallel blocks with a second norm), a, m [t, d];
    // attention on st (single sequence) or on batch (one token of each of t sequences).
    private void run(Tensor x, Tensor u, Tensor u2, Tensor a, Tensor m, FeedForward.Scratch ffnScratch, State st,
                     int[] positions, BatchAttention batch, int layer, LinearTap tap) {
        int t = x.dim(0);
        NormPlacement p = config.placement();
        float alpha = config.residualAlpha();
        if (config.parallel()) {
            attend(config.normalizeInput(attnIn, x, u), a, st, positions, batch);
            observeAttention(tap, layer, u, st, t);
            Tensor in2 = ffnIn == null ? u : config.normalizeInput(ffnIn, x, u2);
            ffn.forward(in2, m, ffnScratch, layer, tap);
            NormPlacement.scaleSkip(x, alpha);
            Ops.add(x, a, x);
            Ops.add(x, m, x);
            return;
        }
        Tensor in = p.hasInputNorm() ? config.normalizeInput(attnIn, x, u) : x;
        attend(in, a, st, positions, batch);
        observeAttention(tap, layer, in, st, t);
        p.residual(x, a, attnOut, alpha);
        ffn.forward(p.hasInputNorm() ? config.normalizeInput(ffnIn, x, u) : x, m, ffnScratch, layer, tap);
        p.residual(x, m, ffnOut, alpha);
    }

    private void attend(Tensor in, Tensor out, State st, int[] positions, BatchAttention batch) {
        if (batch == null) {
            attention.forward(in, out, st.attn, positions);
        } else {
            batch.forward(in, out, in.dim(0));
        }
    }

    private static void observeAttention(LinearTap tap, int layer, Tensor in, State st, int t) {
        if (tap != null) {
            tap.observe(layer, LinearSite.ATTN_QKV, -1, in);
            tap.observe(layer, LinearSite.ATTN_OUTPUT, -1, st.attn.context(t));
        }
    }

    /** Per-session buffers of one block: its attention state (with KV cache layer) and FFN scratch. */
    public static final class State {
        final Attention.State attn;
        final FeedForward.Scratch ffn;
        final RowBuffer u;  // [maxTokens, d] normed input
        final RowBuffer u2; // [maxTokens, d] second normed input (parallel blocks with two norms), else null
        final RowBuffer a;  // [maxTokens, d] attention output
        final RowBuffer m;  // [maxTokens, d] ffn output

        private State(TransformerBlock b, KvCache cache, int layer, int maxTokens, ScratchPool pool) {
            int d = b.config.hidden();
            int mt = Math.min(maxTokens, cache.contextLength());
            this.attn = b.attention.newState(cache, layer, mt, pool);
            this.ffn = b.ffn.newScratch(mt, pool);
            this.u = ScratchPool.rows(pool, "block normed input", mt, d);
            this.u2 = b.config.parallel() && b.ffnIn != null   // parallel path only
                    ? ScratchPool.rows(pool, "block second normed input", mt, d) : null;
            this.a = ScratchPool.rows(pool, "block attention output", mt, d);
            this.m = ScratchPool.rows(pool, "block ffn output", mt, d);
        }

        /** The attention state (for example to set a key padding mask). */
        public Attention.State attention() {
            return attn;
        }

        /** The feed-forward scratch (MoE router statistics live here). */
        public FeedForward.Scratch ffn() {
            return ffn;
        }
    }
}
