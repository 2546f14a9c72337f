package dev.interlayer.nn;

/**
 * ALiBi head slopes (Press et al. 2022, "Train Short, Test Long: Attention with Linear Biases Enables Input
 * Length Extrapolation"; BLOOM/MPT construction): for p = 2^floor(log2 n),
 * m_h = (2^(−maxBias/p))^(h+1) for h &lt; p, then odd powers of 2^(−maxBias/(2p)) for the rest.
 * The score bias is −m_h·(pos(i) − pos(j)).
 */
public final class Alibi {
    private Alibi() {
    }

    /** Slopes for {@code heads} heads with the given maximum bias (8 for BLOOM). */
    public static float[] slopes(int heads, double maxBias) {
        if (heads < 1 || !(maxBias > 0)) {
            throw new IllegalArgumentException("ALiBi needs heads >= 1 and maxBias > 0, got " + heads + ", " + maxBias);
        }
        int p = Integer.highestOneBit(heads);
        double base = Math.pow(2, -maxBias / p);
        float[] m = new float[heads];
        for (int h = 0; h < p; h++) {
            m[h] = (float) Math.pow(base, h + 1);
        }
        double extra = Math.pow(2, -maxBias / (2.0 * p));
        for (int h = p; h < heads; h++) {
            m[h] = (float) Math.pow(extra, 2 * (h - p) + 1);
        }
        return m;
    }
}
