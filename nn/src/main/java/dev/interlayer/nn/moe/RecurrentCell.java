package dev.interlayer.nn.moe;

import dev.interlayer.nn.Linear;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * The recurrent cell of the Layerwise Recurrent Router (Qiu et al. 2024, "Layerwise Recurrent Router for
 * Mixture-of-Experts"), shared by the routers of all MoE layers of a model. PyTorch GRU layout, gate rows
 * in the order r, z, n:
 * <pre>
 *   GRU: rg = σ(W_ir x + b_ir + W_hr h + b_hr),  zg = σ(W_iz x + b_iz + W_hz h + b_hz)
 *        n  = tanh(W_in x + b_in + rg ⊙ (W_hn h + b_hn)),  h' = (1 − zg) ⊙ n + zg ⊙ h
 *   RNN: h' = tanh(W_in x + b_in + W_hn h + b_hn)   (the n rows only)
 * </pre>
 *
 * <p>Shapes: input [3H, H] with bias [3H]; hidden [3H, H] with bias [3H]; x, h [T, H].
 *
 * @param input  W_i (rows r, z, n) with b_i
 * @param hidden W_h (rows r, z, n) with b_h
 * @param kind   GRU or plain tanh RNN
 */
public record RecurrentCell(Linear input, Linear hidden, Kind kind) {
    /** Cell type. */
    public enum Kind {
        /** Gated recurrent unit. */
        GRU,
        /** h' = tanh(W_in x + b_in + W_hn h + b_hn). */
        RNN
    }

    /** @throws ShapeMismatchException unless both weights are [3H, H] */
    public RecurrentCell {
        int h = input.in();
        input.requireShape("RecurrentCell input", 3 * h, h);
        hidden.requireShape("RecurrentCell hidden", 3 * h, h);
    }

    /** State width H. */
    public int width() {
        return input.in();
    }

    /**
     * h ← cell(x, h) for the first T rows. gi, gh are [maxTokens, 3H] scratch buffers.
     */
    void step(Tensor x, RowBuffer h, RowBuffer gi, RowBuffer gh) {
        int t = x.dim(0), w = width();
        input.apply(x, gi.rows(t));
        hidden.apply(h.rows(t), gh.rows(t));
        float[] a = gi.data(), b = gh.data(), s = h.data();
        for (int i = 0; i < t; i++) {
            int g = i * 3 * w;
            for (int j = 0; j < w; j++) {
                double n;
                if (kind == Kind.RNN) {
                    s[i * w + j] = (float) Math.tanh(a[g + 2 * w + j] + b[g + 2 * w + j]);
                    continue;
                }
                double r = RouterMath.sigmoid(a[g + j] + b[g + j]);
                double z = RouterMath.sigmoid(a[g + w + j] + b[g + w + j]);
                n = Math.tanh(a[g + 2 * w + j] + r * b[g + 2 * w + j]);
                s[i * w + j] = (float) ((1 - z) * n + z * s[i * w + j]);
            }
        }
    }
}
