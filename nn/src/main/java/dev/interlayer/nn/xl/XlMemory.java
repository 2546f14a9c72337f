package dev.interlayer.nn.xl;

import java.util.Arrays;

/**
 * The recurrent state of one Transformer-XL text: for every layer ℓ, the last {@code memLen} rows of that layer's
 * inputs seen so far (mems[0] holds embeddings). After a segment with layer inputs x_ℓ:
 * mems[ℓ] ← last memLen rows of concat(mems[ℓ], x_ℓ). Every layer holds the same number of rows.
 */
public final class XlMemory {
    private final float[][] rows;
    private final int width, capacity;
    private int length;

    XlMemory(int layers, int width, int capacity) {
        this.rows = new float[layers][capacity * width];
        this.width = width;
        this.capacity = capacity;
    }

    /** Rows held per layer now (M). */
    public int length() {
        return length;
    }

    /** Forgets everything (a new text). */
    public void clear() {
        length = 0;
        for (float[] r : rows) {
            Arrays.fill(r, 0f);
        }
    }

    /** concat(mems[layer], x) as [M + T, d] row-major. */
    float[] extended(int layer, float[] x, int t) {
        float[] out = new float[(length + t) * width];
        System.arraycopy(rows[layer], 0, out, 0, length * width);
        System.arraycopy(x, 0, out, length * width, t * width);
        return out;
    }

    /** Ends a segment: keeps the last {@code capacity} rows of concat(mems[ℓ], inputs[ℓ]) for every layer. */
    void update(float[][] inputs, int t) {
        int keep = Math.min(capacity, length + t);
        for (int l = 0; l < rows.length; l++) {
            float[] all = extended(l, inputs[l], t);
            System.arraycopy(all, (length + t - keep) * width, rows[l], 0, keep * width);
        }
        length = keep;
    }
}
