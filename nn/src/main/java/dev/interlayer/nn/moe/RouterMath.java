package dev.interlayer.nn.moe;

import dev.interlayer.nn.readout.LogSoftmax;

/**
 * Allocation-free row operations of the routers, on one row {@code [off, off + n)} of a float array,
 * reduced in double. E is small (tens to hundreds), so plain loops.
 */
final class RouterMath {
    private RouterMath() {
    }

    /** dst = softmax(src) = exp(src − logSumExp(src)), the log-sum-exp max-shifted (src and dst may be one row). */
    static void softmax(float[] src, int sOff, float[] dst, int dOff, int n) {
        double lse = LogSoftmax.logSumExp(src, sOff, n);
        for (int i = 0; i < n; i++) {
            dst[dOff + i] = (float) Math.exp(src[sOff + i] - lse);
        }
    }

    /** dst = sigmoid(src) element-wise. */
    static void sigmoid(float[] src, int sOff, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dOff + i] = sigmoid(src[sOff + i]);
        }
    }

    static float sigmoid(double z) {
        return (float) (1.0 / (1.0 + Math.exp(-z)));
    }

    /** row /= Σ row (turns sigmoid scores into the probability row the statistics use). */
    static void normalize(float[] row, int off, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += row[off + i];
        }
        for (int i = 0; i < n; i++) {
            row[off + i] = (float) (row[off + i] / sum);
        }
    }

    /**
     * idx[0..k) = indices of the k largest entries of the row, best first; equal values keep the lower
     * index first, NaN ranks below every number. Insertion into a sorted list of k: O(n·k).
     */
    static void topK(float[] p, int off, int n, int k, int[] idx) {
        int filled = 0;
        for (int i = 0; i < n; i++) {
            float v = p[off + i];
            int at = filled;
            while (at > 0 && above(v, p[off + idx[at - 1]])) {
                at--;
            }
            if (at >= k) {
                continue;
            }
            int last = Math.min(filled, k - 1);
            System.arraycopy(idx, at, idx, at + 1, last - at);
            idx[at] = i;
            filled = Math.min(filled + 1, k);
        }
    }

    // v ranks strictly above w (a later index never passes an equal earlier one)
    private static boolean above(float v, float w) {
        return Float.isNaN(w) ? !Float.isNaN(v) : v > w;
    }

    /** Index of the largest entry (lowest index on ties). */
    static int argmax(float[] p, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (above(p[off + i], p[off + best])) {
                best = i;
            }
        }
        return best;
    }

    /** −Σ s·log s over a probability row (nats; 0·log 0 = 0). */
    static double entropy(float[] s, int off, int n) {
        double h = 0;
        for (int i = 0; i < n; i++) {
            double v = s[off + i];
            if (v > 0) {
                h -= v * Math.log(v);
            }
        }
        return h;
    }
}
