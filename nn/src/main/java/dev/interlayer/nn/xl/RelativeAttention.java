package dev.interlayer.nn.xl;

/**
 * The Transformer-XL attention core for one layer, written as the direct formula (the paper's code computes the
 * distance term for all pairs with a "relative shift" of a [T, M+T] matrix; this is its meaning for visible keys):
 * <pre>
 *   score_h(i, j) = ((q_i + u)·k_j + (q_i + v_b)·r[δ]) / √dh,   δ = min(M + i − j, clamp)   for visible j
 *   visible: j ≤ M + i, and with same_length also j &gt; i − s, s = T − (M + T − memLen) if M + T &gt; memLen else T
 *   o_h(i) = Σ_j softmax_j(score_h(i, ·)) · v_j
 * </pre>
 * Arrays are row-major: q [T, H·dh], k and v [M+T, H·dh], r [M+T, H·dh] with row δ holding r[min(δ, clamp)].
 */
final class RelativeAttention {
    private RelativeAttention() {
    }

    /** Distance row used for δ: the encoding of δ is row min(δ, clampLen) when clamping is on. */
    static int distanceRow(int delta, int clampLen) {
        return clampLen > 0 ? Math.min(delta, clampLen) : delta;
    }

    /** First key index (inclusive) query i may see under same_length, or 0. */
    static int firstVisible(int i, int m, int t, XlConfig c) {
        if (!c.sameLength()) {
            return 0;
        }
        int maskLen = m + t - c.memLen();
        int shift = maskLen > 0 ? t - maskLen : t;
        return Math.max(0, i - shift + 1);
    }

    static void attend(float[] q, float[] k, float[] v, float[] r, float[] u, float[] vb, int heads, int dh, int m,
                       int t, XlConfig c, float[] out) {
        int hd = heads * dh;
        float scale = (float) (1.0 / Math.sqrt(dh));
        float[] scores = new float[m + t];
        for (int i = 0; i < t; i++) {
            int last = m + i, first = firstVisible(i, m, t, c);
            for (int h = 0; h < heads; h++) {
                int qo = i * hd + h * dh;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = first; j <= last; j++) {
                    int ko = j * hd + h * dh, ro = (last - j) * hd + h * dh; // r rows are already clamped
                    float s = 0;
                    for (int e = 0; e < dh; e++) {
                        float qe = q[qo + e];
                        s += (qe + u[h * dh + e]) * k[ko + e] + (qe + vb[h * dh + e]) * r[ro + e];
                    }
                    scores[j] = s * scale;
                    max = Math.max(max, scores[j]);
                }
                float sum = 0;
                for (int j = first; j <= last; j++) {
                    scores[j] = (float) Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                int oo = i * hd + h * dh;
                java.util.Arrays.fill(out, oo, oo + dh, 0f);
                for (int j = first; j <= last; j++) {
                    float p = scores[j] / sum;
                    for (int e = 0; e < dh; e++) {
                        out[oo + e] += p * v[j * hd + h * dh + e];
                    }
                }
            }
        }
    }
}
