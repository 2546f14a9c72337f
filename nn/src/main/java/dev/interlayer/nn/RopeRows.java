package dev.interlayer.nn;

import dev.interlayer.tensor.Rope;

/**
 * RoPE ("RoFormer", Su et al.) in place on an attention call's heap q and k rows: row i is rotated by the position
 * of its cache entry, pairs (x_j, x_{j+r/2}) or (x_{2j}, x_{2j+1}) by angle p·invFreq_j; dimensions past the rotary
 * width stay. Same math as {@code Ops.rope} (angle in double, cos/sin rounded to float and scaled), with one cos/sin
 * row per token shared by q and k and no allocation: {@code Ops.rope} allocates views, cursors, cos/sin rows and a
 * lambda on every call (~0.5 KB per call). Mutable scratch; one thread owns it.
 */
final class RopeRows {
    private final float[] cos;  // [rotaryDim/2] one position's cos, scaled
    private final float[] sin;  // [rotaryDim/2] one position's sin, scaled

    RopeRows(int half) {
        this.cos = new float[half];
        this.sin = new float[half];
    }

    /**
     * Rotates rows i &lt; t of q ([t, qHeads·dh]) and, unless k is null, of k ([t, kHeads·dh]) by position
     * pos[slot0 + i].
     */
    void rotate(Rope rope, int[] pos, int slot0, int t, float[] q, int qHeads, float[] k, int kHeads, int dh) {
        int half = rope.rotaryDim() / 2;
        boolean interleaved = rope.pairing() == Rope.Pairing.INTERLEAVED;
        float scaling = rope.attentionScaling();
        for (int i = 0; i < t; i++) {
            int p = pos[slot0 + i];
            for (int j = 0; j < half; j++) {
                double ang = (double) p * rope.invFreq(j);
                cos[j] = (float) Math.cos(ang) * scaling;
                sin[j] = (float) Math.sin(ang) * scaling;
            }
            rotateHeads(q, i * qHeads * dh, qHeads, dh, half, interleaved);
            if (k != null) {
                rotateHeads(k, i * kHeads * dh, kHeads, dh, half, interleaved);
            }
        }
    }

    // Rotates pairs (x[i], x[i+half]) or (x[2i], x[2i+1]) of each head in a[off .. off + heads·dh);
    // dimensions past 2·half (partial rotary) stay as they are.
    private void rotateHeads(float[] a, int off, int heads, int dh, int half, boolean interleaved) {
        float[] cs = cos, sn = sin;
        for (int h = 0; h < heads; h++) {
            int base = off + h * dh;
            for (int j = 0; j < half; j++) {
                int i0 = interleaved ? base + 2 * j : base + j;
                int i1 = interleaved ? i0 + 1 : i0 + half;
                float x0 = a[i0], x1 = a[i1];
                a[i0] = x0 * cs[j] - x1 * sn[j];
                a[i1] = x1 * cs[j] + x0 * sn[j];
            }
        }
    }
}
