package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * A bidirectional encoder stack (BERT-style, Devlin et al. 2018): same recurrence as {@link DecoderStack} but
 * every attention is non-causal:
 * <pre>
 *   x₀ = N_e(E[token]·scale + P[pos] + S[tokenType])      (each term when present)
 *   x_ℓ = Block_ℓ(x_{ℓ−1}),  y = N_f(x_L)
 * </pre>
 * Two ways to run it:
 * <ul>
 *   <li>{@link #encode(PackedBatch, int[], int[])}: a batch of sequences of unequal lengths packed back to
 *       back ([Σ len, d]); row-wise layers run on the real rows only and attention stays within each
 *       sequence (bidirectional attention per sequence, GEMM form from 32 tokens), so nothing is computed on padding. Learned or no positions,
 *       MHA/GQA, sequential blocks.</li>
 *   <li>{@link #forward(int[], boolean[], StackSession)}: one sequence in a session, with an optional key
 *       padding mask (padded keys are never attended; padded query rows are computed but meaningless) and
 *       every attention option of {@link Attention}.</li>
 * </ul>
 *
 * <p>Shapes: output [T, d] or [Σ len, d].
 *
 * @param embedding     token embedding, or null
 * @param positions     learned absolute positions, or null
 * @param embeddingNorm norm applied to x₀ (BERT's embeddings LayerNorm), or null
 * @param blocks        the L blocks
 * @param finalNorm     N_f, or null (Post-LN encoders have none)
 * @param tokenTypes    token-type (segment) embedding S [types, d], or null; used by {@link #encode} only
 */
public record EncoderStack(Embedding embedding, LearnedPositions positions, Norm embeddingNorm,
                           List<TransformerBlock> blocks, Norm finalNorm, Embedding tokenTypes) {
    /**
     * Checks that no block is causal and that embedding, positions, norms and blocks share the hidden size.
     *
     * @throws IllegalArgumentException if a block's attention is causal or the parts do not fit together
     */
    public EncoderStack {
        Stacks.validate("EncoderStack", embedding, positions, embeddingNorm, blocks, finalNorm);
        blocks = List.copyOf(blocks);
        for (int l = 0; l < blocks.size(); l++) {
            if (blocks.get(l).config().attention().causal()) {
                throw new IllegalArgumentException("EncoderStack: block " + l + " attention is causal");
            }
        }
        if (tokenTypes != null && tokenTypes.dim() != blocks.get(0).config().hidden()) {
            throw new ShapeMismatchException("EncoderStack: token-type table " + tokenTypes.table().shape()
                    + " does not match hidden " + blocks.get(0).config().hidden());
        }
    }

    /** A stack without token-type embeddings. */
    public EncoderStack(Embedding embedding, LearnedPositions positions, Norm embeddingNorm,
                        List<TransformerBlock> blocks, Norm finalNorm) {
        this(embedding, positions, embeddingNorm, blocks, finalNorm, null);
    }

    /** Model width d. */
    public int hidden() {
        return blocks.get(0).config().hidden();
    }

    /** Longest sequence (largest position + 1) the stack accepts. */
    public int contextLength() {
        return Stacks.contextLength(blocks, positions);
    }

    /** Number of layers L. */
    public int layers() {
        return blocks.size();
    }

    /** A session for sequences of up to {@code maxLength} tokens. */
    public StackSession newSession(int maxLength, boolean taps) {
        int ctx = Stacks.contextLength(blocks, positions);
        if (maxLength < 1 || maxLength > ctx) {
            throw new IllegalArgumentException("maxLength " + maxLength + " must be in [1, " + ctx + "]");
        }
        return new StackSession(blocks, maxLength, maxLength, taps, false, KvType.F32); // one call from 0: no ring
    }

    /**
     * Encodes one sequence. {@code valid} (length T, true = real token) or null for no padding.
     * Returns the [T, d] output (a view into the session).
     */
    public Tensor forward(int[] tokens, boolean[] valid, StackSession s) {
        begin(tokens.length, valid, s);
        return Stacks.run(positions, embeddingNorm, blocks, finalNorm, Stacks.embed(embedding, tokens, null, s), null, s);
    }

    /** Encodes one sequence given as embeddings x₀ [T, d]. */
    public Tensor forwardEmbeddings(Tensor x0, boolean[] valid, StackSession s) {
        begin(x0.dim(0), valid, s);
        return Stacks.run(positions, embeddingNorm, blocks, finalNorm, Stacks.copyIn(x0, null, s), null, s);
    }

    /**
     * Encodes a packed batch: rows [start(b), start(b) + length(b)) of the result are sequence b's last
     * hidden states, equal to the real tokens' rows of a padded batch under a key padding mask. Allocates
     * its activations per call (thread-safe; run it inside {@code ComputePool.run} to keep the pool's
     * threads for the whole pass).
     *
     * @param tokens     [n] token ids in row order ({@link PackedBatch#pack})
     * @param tokenTypes [n] token types, or null for type 0 everywhere (ignored without a type table)
     * @return [n, d] F32, a new tensor
     * @throws IllegalArgumentException      for lengths that do not match the batch, or a token, type or position
     *                                       outside its table
     * @throws IllegalStateException         if the stack has no embedding (use encodeEmbeddings)
     * @throws UnsupportedOperationException if a block needs what the packed path lacks (see the class doc)
     */
    public Tensor encode(PackedBatch batch, int[] tokens, int[] tokenTypes) {
        if (embedding == null) {
            throw new IllegalStateException("this stack has no embedding; pass embeddings to encodeEmbeddings");
        }
        requireRows("tokens", tokens.length, batch);
        if (batch.rows() == 0) {
            return Tensor.zeros(0, hidden());
        }
        Tensor x = Tensor.zeros(batch.rows(), hidden());
        embedding.lookup(tokens, x);
        return run(batch, x, tokenTypes);
    }

    /**
     * As {@link #encode(PackedBatch, int[], int[])}, from token embeddings x₀ [n, d] (copied; positions,
     * token types and the embedding norm are still applied).
     */
    public Tensor encodeEmbeddings(PackedBatch batch, Tensor x0, int[] tokenTypes) {
        if (x0.rank() != 2 || x0.dim(1) != hidden()) {
            throw new ShapeMismatchException("EncoderStack.encodeEmbeddings: x0 must be [n, " + hidden() + "], got "
                    + x0.shape());
        }
        requireRows("embedding rows", x0.dim(0), batch);
        if (batch.rows() == 0) {
            return Tensor.zeros(0, hidden());
        }
        Tensor x = Tensor.zeros(batch.rows(), hidden());
        Ops.scale(x0, 1f, x); // a kernel copy (exact), F16/BF16 inputs widened
        return run(batch, x, tokenTypes);
    }

    /**
     * A padded batch: tokens [B][T] with valid [B][T] (true = real token at position t). Only real tokens are
     * computed (packed, see {@link PackedBatch#fromMask}); padded rows of the result are 0.
     *
     * @param tokenTypes [B][T] or null for type 0
     * @return [B, T, d] F32
     */
    public Tensor encodePadded(int[][] tokens, int[][] tokenTypes, boolean[][] valid) {
        PackedBatch batch = PackedBatch.fromMask(valid);
        int width = valid.length == 0 ? 0 : valid[0].length;
        int[] ids = new int[batch.rows()];
        int[] types = tokenTypes == null ? null : new int[batch.rows()];
        if (tokens.length != valid.length || (tokenTypes != null && tokenTypes.length != valid.length)) {
            throw new IllegalArgumentException("encodePadded: " + tokens.length + " token rows"
                    + (tokenTypes == null ? "" : ", " + tokenTypes.length + " type rows") + " for a mask of "
                    + valid.length + " rows");
        }
        for (int b = 0, r = 0; b < valid.length; b++) {
            if (tokens[b].length != width || (types != null && tokenTypes[b].length != width)) {
                throw new IllegalArgumentException("encodePadded: row " + b + " has " + tokens[b].length
                        + " tokens for a mask of width " + width);
            }
            for (int t = 0; t < width; t++) {
                if (valid[b][t]) {
                    if (types != null) {
                        types[r] = tokenTypes[b][t];
                    }
                    ids[r++] = tokens[b][t];
                }
            }
        }
        float[] packed = encode(batch, ids, types).toFloatArray();
        int d = hidden();
        float[] out = new float[Math.multiplyExact(valid.length * width, d)];
        for (int b = 0; b < valid.length; b++) {
            for (int i = 0; i < batch.length(b); i++) {
                int r = batch.start(b) + i;
                System.arraycopy(packed, r * d, out, (b * width + batch.position(r)) * d, d);
            }
        }
        return Tensor.wrap(out, dev.interlayer.tensor.Shape.of(valid.length, width, d));
    }

    private void requireRows(String what, int rows, PackedBatch batch) {
        if (rows != batch.rows()) {
            throw new IllegalArgumentException("EncoderStack.encode: " + rows + " " + what + " for a batch of "
                    + batch.rows() + " rows " + batch);
        }
        int ctx = contextLength();
        for (int r = 0; r < rows; r++) {
            if (batch.position(r) >= ctx) {
                throw new IllegalArgumentException("EncoderStack.encode: row " + r + " is at position "
                        + batch.position(r) + "; the stack takes positions below " + ctx);
            }
        }
    }

    // x₀ terms after the token embedding, then the blocks and the final norm, in place on x [n, d]
    private Tensor run(PackedBatch batch, Tensor x, int[] types) {
        Tensor rows = positions == null && tokenTypes == null ? null : Tensor.zeros(x.dim(0), x.dim(1));
        if (positions != null) {       // gather + vector add: the same sums as LearnedPositions.addTo, faster
            Ops.embedding(positions.table(), batch.positionsView(), rows);
            Ops.add(x, rows, x);
        }
        if (tokenTypes != null) {
            Ops.embedding(tokenTypes.table(), checkTypes(x.dim(0), types), rows);
            if (tokenTypes.scale() != 1f) {
                Ops.scale(rows, tokenTypes.scale(), rows);
            }
            Ops.add(x, rows, x);
        }
        if (embeddingNorm != null) {
            embeddingNorm.apply(x, x);
        }
        PackedEncoder.run(blocks, x, batch);
        if (finalNorm != null) {
            finalNorm.apply(x, x);
        }
        return x;
    }

    // the token types of n rows (null: all 0), each checked against the type table
    private int[] checkTypes(int n, int[] types) {
        if (types == null) {
            return new int[n];
        }
        if (types.length != n) {
            throw new IllegalArgumentException("EncoderStack.encode: " + types.length + " token types for " + n
                    + " rows");
        }
        for (int r = 0; r < n; r++) {
            if (types[r] < 0 || types[r] >= tokenTypes.vocab()) {
                throw new IllegalArgumentException("EncoderStack.encode: token type " + types[r] + " at row " + r
                        + " outside [0, " + tokenTypes.vocab() + ")");
            }
        }
        return types;
    }

    private static void begin(int t, boolean[] valid, StackSession s) {
        if (valid != null && valid.length != t) {
            throw new IllegalArgumentException("padding mask has " + valid.length + " entries for " + t + " tokens");
        }
        s.cache.reset();
        for (TransformerBlock.State b : s.blocks) {
            b.attn.setKeyMask(valid);
        }
    }
}
