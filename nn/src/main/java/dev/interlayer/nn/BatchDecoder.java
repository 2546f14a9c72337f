package dev.interlayer.nn;

import dev.interlayer.nn.plan.OutputHead;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * Batched decode for continuous batching: n ≤ maxBatch independent sequences, each with its own
 * {@link StackSession} (KV cache) at its own position, advance one token each in one pass over the weights.
 * Every linear layer (Q/K/V, output, gate/up, down, router and experts, LM head) runs once over an [n, ·]
 * activation matrix; attention runs per sequence against its own cache (one parallel task per sequence and
 * KV head). Row i of the result is bit-identical to {@link DecoderStack#decode(int, StackSession)} of
 * sequence i alone: both run the same per-row code, and the products compute each row as they compute it
 * alone (the reduction order over k depends on k only, {@code GemmKernel.ROW_EXACT_MAX} = 16 rows; F32/F16/BF16
 * weights). Two caveats, both outside this class: block-quantized weights go through {@code tensor.quant}'s
 * kernels, where Q4_1, Q5_0, Q5_1 and Q5_K are row-exact but Q8_0, Q4_0, Q4_K and Q6_K sum one row (their fused
 * decode kernel) in another order than several (equal to rounding, ~1e-6); and the JVM's Vector API sums lanes and
 * computes exp differently before and after C2 compiles a kernel (norms, softmax, activations), so bit equality
 * holds between calls that run the same compiled code, as in a warmed-up server.
 *
 * <p>Built once per stack and reused: it holds the [maxBatch, ·] scratch of every layer (shared between layers
 * like a session's), so a steady-state step allocates nothing. Each call runs inside one
 * {@link ComputePool#run} hand-off. MoE router statistics of a batched step land in this decoder's scratch,
 * not in the sessions. Mutable; one thread uses it at a time.
 *
 * <p>Shapes: tokens [≥ n]; output [n, d] (final norm applied); logits [n, V].
 */
public final class BatchDecoder {
    private final DecoderStack stack;
    private final int maxBatch, d;
    private final RowBuffer x, out;                 // [maxBatch, d] residual stream, final-norm output
    private final RowBuffer u, u2, a, m;            // [maxBatch, d] block temporaries (u2: parallel blocks only)
    private final BatchAttention[] attention;       // [L]
    private final FeedForward.Scratch[] ffn;        // [L]
    private final int[][] positions;                // [maxBatch + 1][n]: this step's positions, one array per n
    private final Runnable pass = this::pass;
    private int[] passTokens;
    private StackSession[] passSessions;
    private int passCount;
    private OutputHead passHead;
    private Tensor passLogits;

    /** The largest batch: the row-exact limit of the batched products ({@code GemmKernel.ROW_EXACT_MAX}). */
    public static final int MAX_BATCH = 16;

    /**
     * Scratch for steps of up to {@code maxBatch} sequences of {@code stack}.
     *
     * @throws IllegalArgumentException if maxBatch is not in [1, 16] (the row-exact limit of the products) or
     *                                  the stack has no embedding
     */
    public BatchDecoder(DecoderStack stack, int maxBatch) {
        if (maxBatch < 1 || maxBatch > MAX_BATCH) {
            throw new IllegalArgumentException("BatchDecoder: maxBatch " + maxBatch + " must be in [1, 16]");
        }
        if (stack.embedding() == null) {
            throw new IllegalArgumentException("BatchDecoder: the stack has no embedding (it decodes token ids)");
        }
        this.stack = stack;
        this.maxBatch = maxBatch;
        List<TransformerBlock> blocks = stack.blocks();
        this.d = blocks.get(0).config().hidden();
        this.x = new RowBuffer(maxBatch, d);
        this.out = new RowBuffer(maxBatch, d);
        ScratchPool pool = new ScratchPool();   // layers run one after another: one set of temporaries
        this.u = ScratchPool.rows(pool, "block normed input", maxBatch, d);
        this.u2 = ScratchPool.rows(pool, "block second normed input", maxBatch, d);
        this.a = ScratchPool.rows(pool, "block attention output", maxBatch, d);
        this.m = ScratchPool.rows(pool, "block ffn output", maxBatch, d);
        this.attention = new BatchAttention[blocks.size()];
        this.ffn = new FeedForward.Scratch[blocks.size()];
        for (int l = 0; l < blocks.size(); l++) {
            attention[l] = new BatchAttention(blocks.get(l).attention(), maxBatch, pool);
            ffn[l] = blocks.get(l).ffn().newScratch(maxBatch, pool);
        }
        this.positions = new int[maxBatch + 1][];
        for (int n = 1; n <= maxBatch; n++) {
            positions[n] = new int[n];
        }
    }

    /** Largest number of sequences one step takes. */
    public int maxBatch() {
        return maxBatch;
    }

    /**
     * Decodes tokens[i] as the next token of sessions[i] for i &lt; n, each at its session's next position,
     * and returns the [n, d] final-norm outputs (a view into this decoder, valid until its next call).
     * Row i equals {@code stack.decode(tokens[i], sessions[i])} bit for bit. Advances every session by one.
     *
     * @throws IllegalArgumentException if n is not in [1, maxBatch], an array is shorter than n, a token is outside
     *                                  the vocabulary, a session is null, repeated, made for another stack or has
     *                                  taps on
     * @throws IllegalStateException    if a session's cache is full (no session is changed then)
     */
    public Tensor decode(int[] tokens, StackSession[] sessions, int n) {
        return decode(tokens, sessions, n, null, null);
    }

    /**
     * As {@link #decode(int[], StackSession[], int)}, then logits = head(output) into {@code logits} rows [0, n)
     * (row i equal to the head applied to sequence i's single-decode output); returns the [n, V] rows written.
     *
     * @throws ShapeMismatchException if logits is not [≥ n, V]
     */
    public Tensor decode(int[] tokens, StackSession[] sessions, int n, OutputHead head, Tensor logits) {
        check(tokens, sessions, n);
        Tensor rows = null;
        if (head != null) {
            if (logits == null || logits.rank() != 2 || logits.dim(0) < n || logits.dim(1) != head.vocab()) {
                throw new ShapeMismatchException("BatchDecoder.decode: logits must be [>= " + n + ", "
                        + head.vocab() + "], got " + (logits == null ? "null" : logits.shape()));
            }
            rows = logits.dim(0) == n ? logits : logits.slice(0, 0, n);
        }
        passTokens = tokens;
        passSessions = sessions;
        passCount = n;
        passHead = head;
        passLogits = rows;
        try {
            ComputePool.run(pass);   // one hand-off per step; the kernels' loops split on the pool inside
        } finally {
            passTokens = null;
            passSessions = null;
            passHead = null;
            passLogits = null;
        }
        return head == null ? out.rows(n) : rows;
    }

    private void check(int[] tokens, StackSession[] sessions, int n) {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("BatchDecoder: " + n + " sequences, must be in [1, " + maxBatch + "]");
        }
        if (tokens == null || sessions == null || tokens.length < n || sessions.length < n) {
            throw new IllegalArgumentException("BatchDecoder: need " + n + " tokens and sessions, got "
                    + (tokens == null ? "null" : tokens.length) + " and "
                    + (sessions == null ? "null" : sessions.length));
        }
        int vocab = stack.embedding().vocab();
        List<TransformerBlock> blocks = stack.blocks();
        for (int i = 0; i < n; i++) {
            StackSession s = sessions[i];
            if (s == null) {
                throw new IllegalArgumentException("BatchDecoder: session " + i + " is null");
            }
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("BatchDecoder: token " + tokens[i] + " (sequence " + i
                        + ") outside the vocabulary [0, " + vocab + ")");
            }
            for (int j = 0; j < i; j++) {
                if (sessions[j] == s) {
                    throw new IllegalArgumentException("BatchDecoder: session " + i + " is also session " + j);
                }
            }
            if (s.taps != null || s.linearTap != null) {
                throw new IllegalArgumentException("BatchDecoder: session " + i + " records taps; batched decode"
                        + " does not (decode it alone)");
            }
            if (s.blocks.length != blocks.size()) {
                throw new IllegalArgumentException("BatchDecoder: session " + i + " was made for another stack");
            }
            for (int l = 0; l < blocks.size(); l++) {
                if (!s.blocks[l].attn.madeFor(blocks.get(l).attention())) {
                    throw new IllegalArgumentException("BatchDecoder: session " + i + " was made for another stack");
                }
            }
            s.cache.requireRoom(1);
        }
    }

    private void pass() {
        int n = passCount;
        StackSession[] sessions = passSessions;
        Tensor xs = x.rows(n);
        stack.embedding().lookup(passTokens, 0, n, xs);
        if (stack.positions() != null) {
            int[] pos = positions[n];
            for (int i = 0; i < n; i++) {
                pos[i] = sessions[i].cache.length();
            }
            stack.positions().addTo(xs, pos);
        }
        if (stack.embeddingNorm() != null) {
            stack.embeddingNorm().apply(xs, xs);
        }
        for (int i = 0; i < n; i++) {
            StackSession s = sessions[i];
            if (s.anyRing) {   // as Stacks.run: a ring layer that refuses must do so before any layer writes
                for (TransformerBlock.State b : s.blocks) {
                    b.attn.stage(null, 1);
                }
            }
        }
        List<TransformerBlock> blocks = stack.blocks();
        for (int l = 0; l < blocks.size(); l++) {
            BatchAttention ba = attention[l];
            for (int i = 0; i < n; i++) {
                ba.states[i] = sessions[i].blocks[l].attn;
            }
            TransformerBlock b = blocks.get(l);
            boolean twoNorms = b.config().parallel() && b.ffnIn() != null;
            b.forwardBatch(xs, ba, ffn[l], u, twoNorms ? u2 : null, a, m, l);
        }
        for (int i = 0; i < n; i++) {
            sessions[i].cache.advance(1);
            sessions[i].lastTokens = 1;
        }
        Tensor o = out.rows(n);
        if (stack.finalNorm() != null) {
            stack.finalNorm().apply(xs, o);
        } else {
            System.arraycopy(x.data(), 0, out.data(), 0, n * d);
        }
        if (passHead != null) {
            passHead.logits(o, passLogits);
        }
    }
}
