package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;

/**
 * A token-wise feed-forward sublayer F_ffn: dense MLP, gated MLP, or mixture of experts.
 *
 * <p>Shapes: x, out [T, hidden]. Implementations are immutable; per-session buffers live in the
 * {@link Scratch} made by {@link #newScratch(int)}.
 */
public interface FeedForward {
    /** Per-session scratch buffers for one feed-forward layer; owned by one thread. */
    interface Scratch {
    }

    /** Model width d (input and output width). */
    int hidden();

    /** Scratch buffers for calls of up to {@code maxTokens} tokens. */
    Scratch newScratch(int maxTokens);

    /**
     * Scratch buffers for calls of up to {@code maxTokens} tokens whose temporaries may come from {@code pool}
     * (shared with the session's other layers; see {@link ScratchPool}). The default makes private ones.
     */
    default Scratch newScratch(int maxTokens, ScratchPool pool) {
        return newScratch(maxTokens);
    }

    /** out = F(x). Modifies {@code out} (must not alias {@code x}) and the scratch. */
    void forward(Tensor x, Tensor out, Scratch scratch);

    /**
     * out = F(x), reporting the input rows of this sublayer's linears to {@code tap} (when not null) as block
     * {@code layer}. The default runs {@link #forward(Tensor, Tensor, Scratch)} and reports nothing.
     */
    default void forward(Tensor x, Tensor out, Scratch scratch, int layer, LinearTap tap) {
        forward(x, out, scratch);
    }
}
