package dev.interlayer.nn.moe;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.Mlp;
import dev.interlayer.nn.Norm;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * A BASE-layer expert (Lewis et al. 2021, "BASE Layers: Simplifying Training of Large, Sparse Models"):
 * a stack of residual feed-forward sublayers z ← z + W2·act(W1·LN(z) + b1) + b2, applied in order.
 *
 * <p>Shapes: every norm [d]; every ffn [d] → [d] with one intermediate width f; x, out [T, d].
 *
 * @param sublayers the (norm, ffn) pairs, at least one
 */
public record BaseExpert(List<Sublayer> sublayers) implements FeedForward {
    /**
     * One residual sublayer.
     *
     * @param norm LN [d]
     * @param ffn  W1 [f, d] + b1, W2 [d, f] + b2, activation (ReLU in the reference)
     */
    public record Sublayer(Norm norm, Mlp ffn) {
    }

    /** @throws ShapeMismatchException unless all sublayers share d and f */
    public BaseExpert {
        sublayers = List.copyOf(sublayers);
        if (sublayers.isEmpty()) {
            throw new IllegalArgumentException("BaseExpert needs at least one sublayer");
        }
        Sublayer s0 = sublayers.get(0);
        for (Sublayer s : sublayers) {
            if (s.norm.dim() != s0.ffn.hidden() || s.ffn.hidden() != s0.ffn.hidden()
                    || s.ffn.up().out() != s0.ffn.up().out()) {
                throw new ShapeMismatchException("BaseExpert: every sublayer needs norm [d] and ffn d → f → d with "
                        + "d = " + s0.ffn.hidden() + ", f = " + s0.ffn.up().out() + "; got norm [" + s.norm.dim()
                        + "], ffn up " + s.ffn.up().weight().shape());
            }
        }
    }

    @Override
    public int hidden() {
        return sublayers.get(0).ffn.hidden();
    }

    /** Intermediate width f. */
    public int intermediate() {
        return sublayers.get(0).ffn.up().out();
    }

    private record Buffers(RowBuffer normed, RowBuffer delta, Scratch ffn) implements Scratch {
    }

    @Override
    public Scratch newScratch(int maxTokens) {
        return new Buffers(new RowBuffer(maxTokens, hidden()), new RowBuffer(maxTokens, hidden()),
                sublayers.get(0).ffn.newScratch(maxTokens));
    }

    @Override
    public void forward(Tensor x, Tensor out, Scratch scratch) {
        Buffers b = (Buffers) scratch;
        int t = x.dim(0);
        Tensor n = b.normed.rows(t), dl = b.delta.rows(t);
        out.copyFrom(x);
        for (Sublayer s : sublayers) {
            s.norm.apply(out, n);
            s.ffn.forward(n, dl, b.ffn);
            Ops.add(out, dl, out);
        }
    }
}
