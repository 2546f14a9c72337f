package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ErrorPropagation} against its defining equations on seeded random data: the cross term is
 * {@code Σ (x − x̂)·x̂ᵀ}; at α = 1 the target satisfies the normal equations of
 * {@code min ‖W·X − W̃·X̂‖² + λ‖W̃ − W‖²}, i.e. {@code W̃·(H + λI) = W·(H + D + λI)}; α scales the correction
 * linearly; equal inputs (D = 0) leave W unchanged. Tolerances: float64 sums of ≤ 400 terms agree to 1e-12 of
 * their magnitudes; the target is rounded to float32 (relative 6e-8 per element), so the normal equations hold to
 * 1e-6 of the magnitude of their terms.
 */
class ErrorPropagationTest {
    @Test
    void crossTermIsTheSumOfDifferenceTimesQuantizedInput() {
        var r = new SplittableRandom(1);
        int n = 37, cols = 9, off = 5;
        float[] x = Rand.gaussian(r, off + n * cols, 1), xq = Rand.gaussian(r, n * cols, 1);
        double[] d = new double[cols * cols];
        ErrorPropagation.accumulate(d, x, off, xq, 20, cols, 0.5);           // two calls: rows 0..19, 20..36
        float[] xq2 = java.util.Arrays.copyOfRange(xq, 20 * cols, n * cols);
        ErrorPropagation.accumulate(d, x, off + 20 * cols, xq2, n - 20, cols, 0.5);
        for (int a = 0; a < cols; a++) {
            for (int b = 0; b < cols; b++) {
                double want = 0, mag = 0;
                for (int t = 0; t < n; t++) {
                    double v = 0.5 * ((double) x[off + t * cols + a] - xq[t * cols + a]) * xq[t * cols + b];
                    want += v;
                    mag += Math.abs(v);
                }
                assertEquals(want, d[a * cols + b], 1e-12 * mag, "D[" + a + "," + b + "]");
            }
        }
    }

    @Test
    void fullCorrectionSolvesTheDampedLeastSquaresProblem() {
        var r = new SplittableRandom(2);
        int n = 400, cols = 24, rows = 7;
        double damp = 0.01;
        float[] xq = Rand.activations(r, n, cols), x = xq.clone();
        for (int i = 0; i < x.length; i++) {
            x[i] += (float) (0.1 * r.nextGaussian());     // the unquantized model's inputs: x̂ plus an error
        }
        double[] h = Rand.hessian(xq, n, cols), d = new double[cols * cols];
        ErrorPropagation.accumulate(d, x, 0, xq, n, cols, 2.0 / n);            // the Hessian's 2/N scale
        float[] w = Rand.weights(r, rows, cols);
        float[] t = ErrorPropagation.target(w, rows, cols, h, d, 1, damp);
        double lambda = 0;
        for (int i = 0; i < cols; i++) {
            lambda += damp * h[i * cols + i] / cols;
        }
        double change = 0;
        for (int k = 0; k < rows; k++) {
            for (int j = 0; j < cols; j++) {
                double lhs = lambda * t[k * cols + j], rhs = lambda * w[k * cols + j], mag = 0;
                for (int i = 0; i < cols; i++) {
                    lhs += t[k * cols + i] * h[i * cols + j];
                    rhs += w[k * cols + i] * (h[i * cols + j] + d[i * cols + j]);
                    mag += Math.abs(t[k * cols + i] * h[i * cols + j]) + Math.abs(w[k * cols + i] * d[i * cols + j]);
                }
                assertEquals(rhs, lhs, 1e-6 * mag, "row " + k + " column " + j);
                change = Math.max(change, Math.abs(t[k * cols + j] - w[k * cols + j]));
            }
        }
        assertTrue(change > 1e-3, "the correction must move W: " + change);
        // α scales the correction: W̃(α) − W = α·(W̃(1) − W), up to float32 rounding of both targets
        float[] half = ErrorPropagation.target(w, rows, cols, h, d, 0.5, damp);
        for (int i = 0; i < w.length; i++) {
            assertEquals(0.5 * (t[i] - w[i]), half[i] - w[i], 1e-6 * (Math.abs(t[i]) + Math.abs(w[i])), "element " + i);
        }
        // linears sharing one input (q, k, v) take one correction M = D·(H + λI)⁻¹, written over a copy of D; target
        // is apply(correction) by construction, so the same arithmetic gives the same bits
        double[] dCopy = d.clone();
        double[] m = ErrorPropagation.correction(h, dCopy, cols, damp);
        assertSame(dCopy, m, "M is written over D");
        org.junit.jupiter.api.Assertions.assertArrayEquals(t, ErrorPropagation.apply(w, rows, cols, m, 1));
        // no error in the inputs: the target is W itself
        float[] same = ErrorPropagation.target(w, rows, cols, h, new double[cols * cols], 1, damp);
        for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], same[i], 0, "D = 0 must leave W exactly (a zero correction added in float64)");
        }
    }
}
