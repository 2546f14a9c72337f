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
public record GatedMlp(Linear gate, Linear up, Linear down, Activation activation)
        implements DownProjectedFeedForward {
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
        // {gate, up} weights and {g, u} views for the shared-input matmulT, set on every call: MoE
        // shares one scratch between experts of the same shape.
        final Tensor[] ws = new Tensor[2];
        final Tensor[] outs = new Tensor[2];

        Buffers(int maxTokens, int f, ScratchPool pool) {
            g = ScratchPool.rows(pool, "gated mlp gate", maxTokens, f);
            u = ScratchPool.rows(pool, "gated mlp up", maxTokens, f);
        }
    }

    /** Intermediate width f. */
    public int intermediate() {
        return up.out();
    }

    @Override
    public Scratch newScratch(int maxTokens, ScratchPool pool) {
        return new Buffers(maxTokens, up.out(), pool);
    }

    @Override
    public void forward(Tensor x, Tensor out, Scratch scratch) {
        Buffers b = (Buffers) scratch;
        int t = x.dim(0);
        Tensor g = b.g.rows(t), u = b.u.rows(t);
        // gate and up share x: one call so a decode row runs both matvecs as one parallel region.
        b.ws[0] = gate.weight();
        b.ws[1] = up.weight();
        b.outs[0] = g;
        b.outs[1] = u;
        Ops.matmulT(x, b.ws, b.outs);
        gate.addBias(g);
        up.addBias(u);
        activation.apply(g, g);
        Ops.mul(g, u, g);
        down.apply(g, out);
    }

    /** Rows [0, t) of the buffer that holds the down projection's input after {@link #forward}: [t, f]. */
    @Override
    public Tensor downInput(Scratch scratch, int t) {
        return ((Buffers) scratch).g.rows(t);
    }
}
