package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * A bidirectional encoder stack (BERT-style): same recurrence as {@link DecoderStack} but every
 * attention is non-causal and each call encodes one whole sequence from position 0, with an optional
 * key padding mask (padded keys are never attended; padded query rows are computed but meaningless).
 *
 * <p>Shapes: output [T, d].
 *
 * @param embedding     token embedding, or null
 * @param positions     learned absolute positions, or null
 * @param embeddingNorm norm applied to x₀ (BERT's embeddings LayerNorm), or null
 * @param blocks        the L blocks
 * @param finalNorm     N_f, or null (Post-LN encoders have none)
 */
public record EncoderStack(Embedding embedding, LearnedPositions positions, Norm embeddingNorm,
                           List<TransformerBlock> blocks, Norm finalNorm) {
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
        return new StackSession(blocks, maxLength, maxLength, taps, false); // one call from 0: no ring
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
