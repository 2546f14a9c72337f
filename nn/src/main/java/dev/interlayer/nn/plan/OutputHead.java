package dev.interlayer.nn.plan;

import dev.interlayer.nn.Linear;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * The LM head shared by the model, its early exits and the logit lens: logits = softcap(h·Wᵀ + b) with
 * softcap(z) = c·tanh(z/c) when c &gt; 0 (Gemma 2 final-logit soft-capping), applied to h = N_f(x) already
 * normalized by the stack's final norm. W is the (possibly tied) unembedding [V, d].
 *
 * @param head    the unembedding [V, d] with optional bias [V]
 * @param softcap final-logit soft-cap c, 0 = none
 */
public record OutputHead(Linear head, float softcap) {
    /** @throws IllegalArgumentException if head is null or softcap is negative or not finite */
    public OutputHead {
        if (head == null) {
            throw new IllegalArgumentException("OutputHead: head must not be null");
        }
        if (!(softcap >= 0) || Float.isInfinite(softcap)) {
            throw new IllegalArgumentException("OutputHead: softcap must be finite and >= 0, got " + softcap);
        }
    }

    /** A head without soft-capping. */
    public OutputHead(Linear head) {
        this(head, 0f);
    }

    /** Vocabulary size V. */
    public int vocab() {
        return head.out();
    }

    /**
     * out = softcap(h·Wᵀ + b). Modifies {@code out}.
     *
     * @throws ShapeMismatchException unless h is [T, d] and out is [T, V]
     */
    public Tensor logits(Tensor h, Tensor out) {
        if (h.rank() != 2 || out.rank() != 2 || h.dim(0) != out.dim(0) || out.dim(1) != vocab()
                || h.dim(1) != head.in()) {
            throw ShapeMismatchException.of("OutputHead.logits", "h [T, " + head.in() + "] and out [T, " + vocab()
                    + "]", h.shape(), out.shape());
        }
        head.apply(h, out);
        if (softcap > 0) {
            float[] a = out.heapFloats();
            if (a != null && out.isContiguous() && out.offset() == 0 && !out.isReadOnly()) {
                for (int i = 0; i < out.size(); i++) {
                    a[i] = (float) (softcap * Math.tanh(a[i] / softcap));
                }
            } else {
                for (int i = 0; i < out.dim(0); i++) {
                    for (int j = 0; j < out.dim(1); j++) {
                        out.setFloat((float) (softcap * Math.tanh(out.getFloat(i, j) / softcap)), i, j);
                    }
                }
            }
        }
        return out;
    }

    /** Index of the largest logit of row i (lowest index on ties). */
    public static int argmax(Tensor logits, int row) {
        int v = logits.dim(1), best = 0;
        float[] a = logits.heapFloats();
        if (a != null && logits.isContiguous()) {   // heap F32 rows: read the array directly
            int off = (int) (logits.segment().address() / Float.BYTES + logits.offset()) + row * v; // as Embedding
            for (int j = 1; j < v; j++) {
                if (a[off + j] > a[off + best]) {
                    best = j;
                }
            }
            return best;
        }
        float max = logits.getFloat(row, 0);
        for (int j = 1; j < v; j++) {
            float f = logits.getFloat(row, j);
            if (f > max) {
                max = f;
                best = j;
            }
        }
        return best;
    }
}
