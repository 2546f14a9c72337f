package dev.interlayer.nn.readout;

/**
 * Auto-contrastive decoding ("The Benefits of Bad Advice: Autocontrastive Decoding across Model Layers", Gera et
 * al.): contrast an upper exit's next-token distribution p_u with a lower exit's p_l of the same model.
 * <pre>
 *   τ = min(α·max p_u, m-th largest p_u);   A = { v : p_u(v) ≥ τ }
 *   q(v) = softmax_{v∈A}(log p_u(v) − log p_l(v));   mass = Σ_{v∈A} p_u(v)
 *   p_acd(v) = q(v)·mass for v ∈ A;   p_acd(v) = p_u(v) outside A        (a proper distribution)
 * </pre>
 * Log-probabilities come from log-softmax of the logits (no log of an underflowed probability).
 */
public final class AutoContrastive {
    private AutoContrastive() {
    }

    /**
     * log p_acd for one position.
     *
     * @param upper         upper-exit logits [V]
     * @param lower         lower-exit logits [V]
     * @param alpha         plausibility factor α (0.1 in the reference)
     * @param minCandidates m ≥ 1 (1 in the reference)
     * @throws IllegalArgumentException if the lengths differ, are 0, or m is outside [1, V]
     */
    public static double[] logProbs(float[] upper, float[] lower, double alpha, int minCandidates) {
        int v = upper.length;
        if (v == 0 || lower.length != v || minCandidates < 1 || minCandidates > v) {
            throw new IllegalArgumentException("ACD: upper and lower logits must have the same length V > 0 and"
                    + " 1 <= m <= V; got " + upper.length + ", " + lower.length + ", m = " + minCandidates);
        }
        double[] lu = logSoftmax(upper), ll = logSoftmax(lower);
        double[] sorted = lu.clone();
        java.util.Arrays.sort(sorted);
        double maxLog = sorted[v - 1];
        double tau = Math.min(Math.log(alpha) + maxLog, sorted[v - minCandidates]); // in log space
        double max = Double.NEGATIVE_INFINITY, massMax = Double.NEGATIVE_INFINITY;
        double[] score = new double[v];
        for (int i = 0; i < v; i++) {
            if (lu[i] >= tau) {
                score[i] = lu[i] - Math.max(ll[i], -Float.MAX_VALUE);
                max = Math.max(max, score[i]);
                massMax = Math.max(massMax, lu[i]);
            }
        }
        double z = 0, mass = 0;
        for (int i = 0; i < v; i++) {
            if (lu[i] >= tau) {
                z += Math.exp(score[i] - max);
                mass += Math.exp(lu[i] - massMax);
            }
        }
        double logMass = massMax + Math.log(mass), logZ = max + Math.log(z);
        double[] out = new double[v];
        for (int i = 0; i < v; i++) {
            out[i] = lu[i] >= tau ? score[i] - logZ + logMass : lu[i];
        }
        return out;
    }

    static double[] logSoftmax(float[] x) {
        return LogSoftmax.of(x, 0, x.length);
    }
}
