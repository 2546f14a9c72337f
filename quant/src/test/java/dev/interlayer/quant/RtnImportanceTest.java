package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.testing.Tries;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * RTN's clipping search weighted as llama.cpp weighs it with an importance matrix (E[x_c²]·sqrt(σ² + w²)): it
 * minimises that weighted error among its candidates, only relative importance matters, and an important column
 * changes the choice.
 */
class RtnImportanceTest {
    /** Σ_c a_c·(ŵ_c − w_c)² of row r, group [c0, c1) of q. */
    private static double weightedError(float[] w, QuantizedLinear q, int r, int c0, int c1, double[] a) {
        double e = 0;
        for (int c = c0; c < c1; c++) {
            double d = q.value(r, c) - w[r * q.cols() + c];
            e += a[c] * d * d;
        }
        return e;
    }

    /** llama.cpp's weights of row r: importance[c]·sqrt(σ_r² + w_rc²), σ_r² the row's mean square. */
    private static double[] llamaWeights(float[] w, int r, int cols, double[] importance) {
        double s2 = 0;
        for (int c = 0; c < cols; c++) {
            s2 += (double) w[r * cols + c] * w[r * cols + c];
        }
        s2 /= cols;
        double[] a = new double[cols];
        for (int c = 0; c < cols; c++) {
            a[c] = importance[c] * Math.sqrt(s2 + (double) w[r * cols + c] * w[r * cols + c]);
        }
        return a;
    }

    /** One random try: an MSE-clipped scheme, rows × cols weights and log-normal importances a_c = exp(spread·z_c). */
    private record Case(QuantScheme s, int rows, int cols, float[] w, double[] a) {
        static Case draw(SplittableRandom r, double spread) {
            QuantScheme s = Rand.scheme(r).withClip(ClipSearch.MSE);
            int rows = 1 + r.nextInt(4), cols = 1 + r.nextInt(70);
            float[] w = Rand.weights(r, rows, cols);
            double[] a = new double[cols];
            for (int c = 0; c < cols; c++) {
                a[c] = Math.exp(spread * r.nextGaussian());
            }
            return new Case(s, rows, cols, w, a);
        }
    }

    @Test
    void weightedSearchNeverLosesToTheUnweightedChoiceOnTheWeightedError() {
        Tries.run(40, 4100, (t, r) -> {
            Case k = Case.draw(r, 2);
            QuantScheme s = k.s;
            QuantizedLinear weighted = Rtn.quantize(k.w, k.rows, k.cols, s, k.a);
            QuantizedLinear plain = Rtn.quantize(k.w, k.rows, k.cols, s);
            QuantizedLinear full = Rtn.quantize(k.w, k.rows, k.cols, s.withClip(ClipSearch.NONE));
            int g = s.groupFor(k.cols);
            for (int row = 0; row < k.rows; row++) {
                double[] lw = llamaWeights(k.w, row, k.cols, k.a);
                for (int c0 = 0; c0 < k.cols; c0 += g) {
                    int c1 = Math.min(k.cols, c0 + g);
                    double ew = weightedError(k.w, weighted, row, c0, c1, lw);
                    // both are candidates of the same search; the weighted one has the least weighted error
                    assertTrue(ew <= weightedError(k.w, plain, row, c0, c1, lw) * (1 + 1e-12), "try " + t + " " + s);
                    assertTrue(ew <= weightedError(k.w, full, row, c0, c1, lw) * (1 + 1e-12), "try " + t + " " + s);
                }
            }
        });
    }

    @Test
    void onlyRelativeImportanceMatters() {
        Tries.run(20, 4200, (t, r) -> {
            Case k = Case.draw(r, 1);
            double[] a4 = new double[k.cols];
            for (int c = 0; c < k.cols; c++) {
                a4[c] = 4 * k.a[c];                        // a power of two scales every error sum exactly
            }
            assertEquals(Rtn.quantize(k.w, k.rows, k.cols, k.s, k.a), Rtn.quantize(k.w, k.rows, k.cols, k.s, a4),
                    "try " + t + " " + k.s);
        });
    }

    /**
     * One group of 32: a weight of 6σ in column 0 and small ones elsewhere. Unweighted, the MSE search clips the
     * outlier to round the other 31 more finely; when column 0's input is 10⁴ times as energetic, the weighted search
     * must keep it (its error dominates), so the grid and the outlier's error differ.
     */
    @Test
    void anImportantOutlierChangesTheClip() {
        var r = new SplittableRandom(4300);
        int cols = 32;
        float[] w = Rand.gaussian(r, cols, 0.05);
        w[0] = 0.3f;                                       // six standard deviations
        QuantScheme s = QuantScheme.of(GridKind.ASYM_OFFSET, 4, 32).withClip(ClipSearch.MSE);
        double[] a = new double[cols];
        java.util.Arrays.fill(a, 1);
        a[0] = 1e4;
        QuantizedLinear plain = Rtn.quantize(w, 1, cols, s), weighted = Rtn.quantize(w, 1, cols, s, a);
        assertNotEquals(plain.scales()[0], weighted.scales()[0], "the weighted search chose the same grid");
        double outlierPlain = Math.abs(plain.value(0, 0) - w[0]), outlierWeighted = Math.abs(weighted.value(0, 0) - w[0]);
        assertTrue(outlierPlain > 1e-3, "unweighted: the outlier is clipped, error " + outlierPlain);
        assertTrue(outlierWeighted < outlierPlain / 4, "weighted: " + outlierWeighted + " vs " + outlierPlain);
        // and the unweighted search keeps the smaller plain squared error, as it must
        double[] ones = new double[cols];
        java.util.Arrays.fill(ones, 1);
        assertTrue(weightedError(w, plain, 0, 0, cols, ones) <= weightedError(w, weighted, 0, 0, cols, ones));
    }

    @Test
    void importanceOfTheWrongLengthIsRefused() {
        QuantScheme s = QuantScheme.of(GridKind.SYM, 4, 8).withClip(ClipSearch.MSE);
        var e = assertThrows(IllegalArgumentException.class, () -> Rtn.quantize(new float[16], 2, 8, s, new double[7]));
        assertTrue(e.getMessage().contains("one importance per column, 8; got 7"), e.getMessage());
    }
}
