package dev.interlayer.nn;

import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * Two-layer MLP: y = down( act( up(x) ) ), act ∈ GELU (erf/tanh), ReLU, ReLU², SiLU.
 *
 * <p>Shapes: up [f, d] (+ bias [f]); down [d, f] (+ bias [d]); x, out [T, d].
 *
 * @param up         [f, d]
 * @param down       [d, f]
 * @param activation element-wise activation
 */
public record Mlp(Linear up, Linear down, Activation activation) implements DownProjectedFeedForward {
    /**
     * Checks that up [f, d] and down [d, f] fit together.
     *
     * @throws ShapeMismatchException if down is not [up.in, up.out]
     */
    public Mlp {
        if (down.in() != up.out() || down.out() != up.in()) {
            throw new ShapeMismatchException("Mlp: need up [f, d] and down [d, f], got up " + up.weight().shape()
                    + " and down " + down.weight().shape());
        }
    }

    /** Buffers of one MLP call. */
    static final class Buffers implements Scratch {
        final RowBuffer h; // [maxTokens, f]

        Buffers(int maxTokens, int f, ScratchPool pool) {
            h = ScratchPool.rows(pool, "mlp hidden", maxTokens, f);
        }
    }

    @Override
    public Scratch newScratch(int maxTokens, ScratchPool pool) {
        return new Buffers(maxTokens, up.out(), pool);
    }

    @Override
    public void forward(Tensor x, Tensor out, Scratch scratch) {
        Tensor h = ((Buffers) scratch).h.rows(x.dim(0));
        up.apply(x, h);
        activation.apply(h, h);
        down.apply(h, out);
    }

    /** Rows [0, t) of the buffer that holds the down projection's input after {@link #forward}: [t, f]. */
    @Override
    public Tensor downInput(Scratch scratch, int t) {
        return ((Buffers) scratch).h.rows(t);
    }
}
