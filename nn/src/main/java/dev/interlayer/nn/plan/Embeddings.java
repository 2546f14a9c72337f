package dev.interlayer.nn.plan;

import dev.interlayer.nn.DecoderStack;
import dev.interlayer.tensor.Tensor;

/** The embedding stage every runner shares: x₀ = Embed(tokens)·scale (+ learned positions) (+ embedding norm). */
public final class Embeddings {
    private Embeddings() {
    }

    /**
     * Writes x₀ of the tokens at positions firstPosition, firstPosition + 1, … (or the explicit positions, if
     * non-null) into out [T, d], exactly as {@link DecoderStack} computes it. Returns out.
     *
     * @throws IllegalStateException if the stack has no embedding table
     */
    public static Tensor x0(DecoderStack stack, int[] tokens, int firstPosition, int[] positions, Tensor out) {
        if (stack.embedding() == null) {
            throw new IllegalStateException("this stack has no embedding table; feed embeddings instead");
        }
        stack.embedding().lookup(tokens, out);
        return finish(stack, firstPosition, positions, out);
    }

    /** Adds learned positions and applies the embedding norm to out [T, d] in place. Returns out. */
    public static Tensor finish(DecoderStack stack, int firstPosition, int[] positions, Tensor out) {
        if (stack.positions() != null) {
            if (positions == null) {
                stack.positions().addTo(out, firstPosition);
            } else {
                stack.positions().addTo(out, positions);
            }
        }
        if (stack.embeddingNorm() != null) {
            stack.embeddingNorm().apply(out, out);
        }
        return out;
    }
}
