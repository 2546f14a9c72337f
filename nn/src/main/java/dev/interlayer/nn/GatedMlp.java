package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * Gated MLP (GLU family): y = down( act(gate(x)) ⊙ up(x) ). SwiGLU uses SiLU (Llama, Mixtral
 * experts), GeGLU uses GELU-tanh (Gemma) or GELU-erf.
 *
 * <p>Shapes: gate, up [f, d]; down [d, f]; x, out [T, d].
 *
 * @param gate       [f, d]
 * @param up         [f, d]
 * @param down       [d, f]
 * @param activation applied to the gate projection
 */
public record GatedMlp(Linear gate, Linear up, Linear down, Activation activation) implements FeedForward {
    /**
     * Checks that gate and up are both [f, d] and down is [d, f].
     *
     * @throws ShapeMismatchException if the three projections do not fit together
     */
    public GatedMlp {
        if (!gate.weight().shape().equals(up.weight().shape()) || down.in() != up.out() || down.out() != up.in()) {
            throw new ShapeMismatchException("GatedMlp: need gate [f, d], up [f, d], down [d, f], got gate "
                    + gate.weight().shape() + ", up " + up.weight().shape() + ", down " + down.weight().shape());
        }
    }

    /** SwiGLU: SiLU-gated MLP. */
    public static GatedMlp swiGlu(Linear gate, Linear up, Linear down) {
        return new GatedMlp(gate, up, down, Activation.SILU);
    }

    /** Buffers of one gated-MLP call. */
    static final class Buffers implements Scratch {
        final RowBuffer g; // [maxTokens, f]
        final RowBuffer u; // [maxTokens, f]

        Buffers(int maxTokens, int f) {
            g = new RowBuffer(maxTokens, f);
            u = new RowBuffer(maxTokens, f);
        }
    }

    /** Intermediate width f. */
    public int intermediate() {
        return up.out();
    }

    @Override
    public int hidden() {
        return up.in();
    }

    @Override
    public Scratch newScratch(int maxTokens) {
        return new Buffers(maxTokens, up.out());
    }

    @Override
    public void forward(Tensor x, Tensor out, Scratch scratch) {
        Buffers b = (Buffers) scratch;
        int t = x.dim(0);
        Tensor g = b.g.rows(t), u = b.u.rows(t);
        gate.apply(x, g);
        up.apply(x, u);
        activation.apply(g, g);
        Ops.mul(g, u, g);
        down.apply(g, out);
    }
}
