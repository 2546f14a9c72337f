package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * Persistent memory vectors of one attention layer ("Augmenting Self-attention with Persistent Memory",
 * Sukhbaatar et al.): per query head h, N learned keys PK_h[n] and values PV_h[n] that join every query's softmax
 * next to the cached keys, with no position term and never masked:
 * s_n = softcap(τ·q·PK_h[n]), o_h += p_n·PV_h[n] in the same normalisation as the cached entries.
 * Immutable heap copies [H, N, dh].
 */
final class PersistentSlots {
    private final float[] keys;    // [H·N·dh]
    private final float[] values;  // [H·N·dh]
    final int slots;               // N
    private final int dh;

    private PersistentSlots(float[] keys, float[] values, int slots, int dh) {
        this.keys = keys;
        this.values = values;
        this.slots = slots;
        this.dh = dh;
    }

    /**
     * {@link #of}, or null (no slots) when both are null.
     *
     * @throws IllegalArgumentException if exactly one of keys and values is null
     */
    static PersistentSlots ofOrNone(Tensor keys, Tensor values, AttentionConfig c) {
        if ((keys == null) != (values == null)) {
            throw new IllegalArgumentException("persistent memory: keys and values must both be given or both be"
                    + " null, got " + (keys == null ? "null" : keys.shape()) + " and "
                    + (values == null ? "null" : values.shape()));
        }
        return keys == null ? null : of(keys, values, c);
    }

    /** Copies of keys and values [Hq, N, dh] for a layer of config c. @throws ShapeMismatchException otherwise */
    static PersistentSlots of(Tensor keys, Tensor values, AttentionConfig c) {
        if (keys.rank() != 3 || keys.dim(0) != c.heads() || keys.dim(2) != c.headDim()
                || !keys.shape().equals(values.shape())) {
            throw ShapeMismatchException.of("Attention persistent memory", "keys and values must both be ["
                    + c.heads() + ", N, " + c.headDim() + "]", keys.shape(), values.shape());
        }
        return new PersistentSlots(keys.toFloatArray(), values.toFloatArray(), keys.dim(1), c.headDim());
    }

    /** sc[off + n] = softcap(τ·q·PK_h[n]) for n &lt; N; returns their maximum. */
    float score(int h, float[] q, int qOff, float tau, float cap, float[] sc, int off) {
        Ops.dotRows(q, qOff, keys, h * slots * dh, dh, slots, dh, tau, sc, off);
        float max = Float.NEGATIVE_INFINITY;
        for (int n = off; n < off + slots; n++) {
            if (cap > 0) {
                sc[n] = (float) (cap * Math.tanh(sc[n] / cap));
            }
            max = Math.max(max, sc[n]);
        }
        return max;
    }

    /** o[oOff + e] += Σ_n p[pOff + n]·PV_h[n, e]. */
    void addWeighted(int h, float[] p, int pOff, float[] o, int oOff) {
        Ops.addWeightedRows(p, pOff, values, h * slots * dh, dh, slots, dh, o, oOff);
    }
}
