package dev.interlayer.nn.moe;

import dev.interlayer.nn.Norm;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * One MoEUT layer (Csordás et al. 2024, "MoEUT: Mixture-of-Experts Universal Transformers") with its particular
 * norm placement: the value path and the experts see the un-normalized stream.
 * <pre>
 *   x ← x + SwitchHead(q, k from LN1(x); values from x)
 *   x ← x + σMoE(experts on x, selection on LN2(x))
 * </pre>
 * The σ-MoE is a {@link RoutedMoe} with a sigmoid {@link TopKRouter} (no renormalization) over ReLU experts
 * ReLU(x·Keys_e)·Values_e.
 *
 * <p>Shapes: ln1, ln2 [d]; x [T, d] updated in place.
 *
 * @param ln1       norm before attention (queries, keys and expert selection)
 * @param attention SwitchHead attention
 * @param ln2       norm feeding the σ-MoE selection
 * @param ffn       σ-MoE feed-forward
 */
public record MoeutBlock(Norm ln1, SwitchHeadAttention attention, Norm ln2, RoutedMoe ffn) {
    /** @throws ShapeMismatchException if the widths disagree */
    public MoeutBlock {
        int d = attention.config().hidden();
        if (ln1.dim() != d || ln2.dim() != d || ffn.hidden() != d) {
            throw new ShapeMismatchException("MoeutBlock: ln1 [" + ln1.dim() + "], ln2 [" + ln2.dim() + "] and σ-MoE "
                    + "width " + ffn.hidden() + " must all equal the attention width " + d);
        }
    }

    /** Model width d. */
    public int hidden() {
        return attention.config().hidden();
    }

    /** Buffers of one execution of this block: its own key/value store, and the σ-MoE state. */
    public State newState(int maxTokens, RoutingContext context) {
        return new State(this, maxTokens, context);
    }

    /** x ← block(x), appending to this execution's key/value store. */
    public void forward(Tensor x, State st) {
        int t = x.dim(0), d = hidden();
        if (x.rank() != 2 || x.dim(1) != d) {
            throw ShapeMismatchException.of("MoeutBlock.forward", "x must be [T, " + d + "]", x.shape(),
                    st.normed.rows(1).shape());
        }
        Tensor n = st.normed.rows(t), y = st.delta.rows(t);
        ln1.apply(x, n);
        attention.forward(n, x, y, st.attention);
        Ops.add(x, y, x);
        ln2.apply(x, n);
        ffn.forward(x, n, y, st.ffn);
        Ops.add(x, y, x);
    }

    /** Per-execution state: attention store and σ-MoE scratch (with its router statistics). */
    public static final class State {
        private final RowBuffer normed; // [maxTokens, d]
        private final RowBuffer delta;  // [maxTokens, d]
        private final SwitchHeadAttention.State attention;
        private final RoutedMoe.State ffn;

        private State(MoeutBlock b, int maxTokens, RoutingContext context) {
            normed = new RowBuffer(maxTokens, b.hidden());
            delta = new RowBuffer(maxTokens, b.hidden());
            attention = b.attention.newState(maxTokens);
            ffn = b.ffn.newScratch(maxTokens, context);
        }

        /** The attention state (key/value store, selection statistics). */
        public SwitchHeadAttention.State attention() {
            return attention;
        }

        /** The σ-MoE state (router statistics of the last call). */
        public RoutedMoe.State ffn() {
            return ffn;
        }
    }
}
