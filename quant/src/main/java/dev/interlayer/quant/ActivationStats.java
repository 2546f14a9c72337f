package dev.interlayer.quant;

/**
 * Per-input-column activation statistics of one linear layer, accumulated in float64 over streamed rows:
 * {@code Σ_t |x_tj|} (AWQ's {@code s_x = mean |x_j|}) and {@code Σ_t x_tj²} (llama.cpp's importance matrix,
 * {@code mean x_j²}), with the number of rows. For MoE, keep one instance per expert. Padding rows are skipped.
 */
public final class ActivationStats {
    private final double[] sumAbs;   // [dIn]
    private final double[] sumSq;    // [dIn]
    private long count;

    /** Empty statistics for inputs of width {@code dIn}. */
    public ActivationStats(int dIn) {
        if (dIn < 1) {
            throw new IllegalArgumentException("ActivationStats: dIn must be >= 1, got " + dIn);
        }
        sumAbs = new double[dIn];
        sumSq = new double[dIn];
    }

    /** Input width. */
    public int dIn() {
        return sumSq.length;
    }

    /** Rows accumulated. */
    public long count() {
        return count;
    }

    /**
     * Adds rows {@code x[n, dIn]}, skipping {@code t} where {@code keep != null && !keep[t]}.
     *
     * @throws IllegalArgumentException if {@code x} is shorter than {@code n·dIn} or {@code keep} shorter than n
     */
    public void accept(float[] x, int n, boolean[] keep) {
        int d = sumSq.length;
        if (n < 0 || x.length < (long) n * d || (keep != null && keep.length < n)) {
            throw new IllegalArgumentException("ActivationStats.accept: need x[" + n + ", " + d + "] and keep[" + n
                    + "]; got " + x.length + " values and " + (keep == null ? "no mask" : keep.length + " flags"));
        }
        for (int t = 0; t < n; t++) {
            if (keep != null && !keep[t]) {
                continue;
            }
            for (int j = 0; j < d; j++) {
                double v = x[t * d + j];
                sumAbs[j] += Math.abs(v);
                sumSq[j] += v * v;
            }
            count++;
        }
    }

    /** {@code mean_t |x_tj|} [dIn] (zeros before any row). */
    public double[] meanAbs() {
        return scaled(sumAbs);
    }

    /** {@code mean_t x_tj²} [dIn] (zeros before any row): llama.cpp's importance-matrix entry. */
    public double[] meanSquare() {
        return scaled(sumSq);
    }

    /** {@code Σ_t x_tj²} [dIn], as stored in llama.cpp's GGUF imatrix ({@code <name>.in_sum2}). */
    public double[] sumSquare() {
        return sumSq.clone();
    }

    private double[] scaled(double[] s) {
        double[] m = new double[s.length];
        for (int j = 0; j < m.length && count > 0; j++) {
            m[j] = s[j] / count;
        }
        return m;
    }
}
