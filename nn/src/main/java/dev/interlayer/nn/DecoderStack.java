package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * A decoder-only stack: x₀ = Embed(tokens)·scale (+ learned positions) (+ embedding norm);
 * x_{ℓ+1} = Block_ℓ(x_ℓ); output N_f(x_L) (or x_L without a final norm). Runs prefill chunks and
 * token-by-token decode against the session's KV cache. The LM head lives in the model package.
 *
 * <p>Shapes: output [T, d].
 *
 * @param embedding     token embedding, or null to feed embeddings via {@link #forwardEmbeddings}
 * @param positions     learned absolute positions, or null
 * @param embeddingNorm norm applied to x₀ (BLOOM), or null
 * @param blocks        the L blocks in execution order (each with its own placement, window, RoPE…)
 * @param finalNorm     N_f, or null
 */
public record DecoderStack(Embedding embedding, LearnedPositions positions, Norm embeddingNorm,
                           List<TransformerBlock> blocks, Norm finalNorm) {
    /**
     * Checks that every block is causal and that embedding, positions, norms and blocks share the hidden size.
     *
     * @throws IllegalArgumentException if a block's attention is not causal or the parts do not fit together
     */
    public DecoderStack {
        Stacks.validate("DecoderStack", embedding, positions, embeddingNorm, blocks, finalNorm);
        blocks = List.copyOf(blocks);
        for (int l = 0; l < blocks.size(); l++) {
            if (!blocks.get(l).config().attention().causal()) {
                throw new IllegalArgumentException("DecoderStack: block " + l + " attention is not causal");
            }
        }
    }

    /** Number of layers L. */
    public int layers() {
        return blocks.size();
    }

    /** Largest number of positions a session can hold (min over layers and the position table). */
    public int contextLength() {
        return Stacks.contextLength(blocks, positions);
    }

    /**
     * A session whose cache holds {@code contextLength} positions and whose calls take ≤ maxTokens tokens.
     * Sliding-window layers with window W keep a ring of W + maxTokens cache rows when that is below
     * contextLength (see {@link KvCache#withSlidingRings}); other layers keep contextLength rows.
     */
    public StackSession newSession(int contextLength, int maxTokens, boolean taps) {
        return newSession(contextLength, maxTokens, taps, true, KvType.F32);
    }

    /**
     * As {@link #newSession(int, int, boolean)}, with the KV cache stored in {@code kvType} (F16 or Q8_0 for long
     * contexts: 2 or 1.0625 bytes per cached value instead of 4; see {@link KvType}).
     *
     * @throws IllegalArgumentException also if kvType is Q8_0 and a layer's head dimension is not a multiple of 32
     */
    public StackSession newSession(int contextLength, int maxTokens, boolean taps, KvType kvType) {
        return newSession(contextLength, maxTokens, taps, true, kvType);
    }

    // ringCache = false keeps contextLength rows in every layer (tests compare both layouts)
    StackSession newSession(int contextLength, int maxTokens, boolean taps, boolean ringCache) {
        return newSession(contextLength, maxTokens, taps, ringCache, KvType.F32);
    }

    StackSession newSession(int contextLength, int maxTokens, boolean taps, boolean ringCache, KvType kvType) {
        if (contextLength < 1 || contextLength > contextLength()) {
            throw new IllegalArgumentException("session contextLength " + contextLength + " must be in [1, "
                    + contextLength() + "]");
        }
        return new StackSession(blocks, contextLength, maxTokens, taps, ringCache, kvType);
    }

    /**
     * Runs a chunk of tokens at the session's next positions. Returns the [T, d] output (a view into
     * the session, valid until the next call).
     *
     * @throws IllegalStateException    if the chunk would pass the session's context length
     * @throws IllegalArgumentException for a token outside the vocabulary or an oversized chunk
     */
    public Tensor forward(int[] tokens, StackSession s) {
        return forward(tokens, null, s);
    }

    /**
     * Runs a chunk whose token i sits at position positions[i] (null = the session's next positions
     * [s.position(), s.position() + T), which is what {@link #forward(int[], StackSession)} uses). The positions
     * drive RoPE, ALiBi, learned absolute positions and the causal/window masks (a key at pk is visible to a
     * query at pq iff pk ≤ pq and pq − pk &lt; W), for left-padded batches, packed sequences or speculative
     * tokens; the tokens still take the next cache entries. Returns the [T, d] output (a view into the session).
     *
     * @param positions [T] positions in [0, session context length), or null; read, not kept
     * @throws IllegalStateException    if the chunk would pass the session's context length, or a sliding-window
     *                                  ring no longer holds a key these positions could see
     * @throws IllegalArgumentException for a token outside the vocabulary, an oversized chunk, or positions of
     *                                  the wrong length or outside [0, context length)
     */
    public Tensor forward(int[] tokens, int[] positions, StackSession s) {
        return Stacks.run(this.positions, embeddingNorm, blocks, finalNorm,
                Stacks.embed(embedding, tokens, 0, tokens.length, positions, s), positions, s);
    }

    /**
     * Runs tokens[off, off + len) at the session's next positions, like {@link #forward(int[], StackSession)}
     * on that range but without copying it (a prefill loop over one long prompt allocates nothing here).
     *
     * @throws IllegalArgumentException if the range is outside {@code tokens}, a token is outside the vocabulary
     *                                  or len is not in [1, maxTokens]
     * @throws IllegalStateException    if the chunk would pass the session's context length
     */
    public Tensor forward(int[] tokens, int off, int len, StackSession s) {
        return Stacks.run(this.positions, embeddingNorm, blocks, finalNorm,
                Stacks.embed(embedding, tokens, off, len, null, s), null, s);
    }

    /** Decodes one token (no per-token allocation in this layer's code). Returns the [1, d] output. */
    public Tensor decode(int token, StackSession s) {
        s.oneToken[0] = token;
        return forward(s.oneToken, null, s);
    }

    /**
     * Decodes one token at an explicit position (no per-token allocation). Returns the [1, d] output.
     *
     * @throws IllegalArgumentException if position is outside [0, session context length)
     */
    public Tensor decode(int token, int position, StackSession s) {
        s.oneToken[0] = token;
        s.onePosition[0] = position;
        return forward(s.oneToken, s.onePosition, s);
    }

    /**
     * A reusable decoder that advances up to {@code maxBatch} sessions of this stack by one token each in one pass
     * over the weights, bit-identical to {@link #decode(int, StackSession)} per session (see {@link BatchDecoder}).
     *
     * @throws IllegalArgumentException if maxBatch is not in [1, 16] or the stack has no embedding
     */
    public BatchDecoder newBatchDecoder(int maxBatch) {
        return new BatchDecoder(this, maxBatch);
    }

    /** Runs a chunk given as embeddings x₀ [T, d] (positions and embedding norm are still applied). */
    public Tensor forwardEmbeddings(Tensor x0, StackSession s) {
        return forwardEmbeddings(x0, null, s);
    }

    /** Runs a chunk given as embeddings x₀ [T, d] at the given positions (null = the next ones). */
    public Tensor forwardEmbeddings(Tensor x0, int[] positions, StackSession s) {
        return Stacks.run(this.positions, embeddingNorm, blocks, finalNorm, Stacks.copyIn(x0, positions, s),
                positions, s);
    }

    /**
     * out = N_f(x), the final norm, or a copy of x when the stack has none; for the stacks built on this one's
     * layers (plans, cross-layer connections). Shapes: x, out [T, d]. Modifies out; does not modify x.
     */
    public Tensor finalNorm(Tensor x, Tensor out) {
        if (finalNorm != null) {
            finalNorm.apply(x, out);
        } else {
            out.copyFrom(x);
        }
        return out;
    }
}
