package dev.interlayer.nn.readout;

/**
 * Log-probabilities of a logits row in float64, for the readouts and evaluations that compare distributions (logit
 * lens, auto-contrastive decoding, perplexity and KL divergence):
 * <pre>
 *   logSumExp(a) = m + log Σ_i exp(a_i − m),   m = max_i a_i        (shifted: no overflow for large logits)
 *   log p_i      = a_i − logSumExp(a)
 * </pre>
 * Working in log space keeps log p finite where p itself would underflow to 0.
 */
public final class LogSoftmax {
    private LogSoftmax() {
    }

    /** logSumExp of {@code a[off, off+n)}. */
    public static double logSumExp(float[] a, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, a[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(a[off + i] - max);
        }
        return max + Math.log(sum);
    }

    /** log p of {@code a[off, off+n)}: a new array of n values. */
    public static double[] of(float[] a, int off, int n) {
        double lse = logSumExp(a, off, n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = a[off + i] - lse;
        }
        return out;
    }
}
