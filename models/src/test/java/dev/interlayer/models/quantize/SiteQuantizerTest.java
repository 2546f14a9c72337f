package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.quant.GridKind;
import dev.interlayer.quant.HessianAccumulator;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.quant.Rtn;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link SiteQuantizer#relativeError} widens the weight to float64 16 rows at a time instead of copying it whole;
 * it must equal the whole-matrix formula {@code tr(ΔW·H·ΔWᵀ) / tr(W·H·Wᵀ)} of plain loops. Tolerance 1e-10
 * relative: both sides sum the same float64 products in a different order, an error of about n·ε = 1e-14 of the
 * terms' magnitudes (n = 96 per dot product), which the off-diagonal terms' cancellation in an SPD form can
 * enlarge relative to the sum by a modest factor; 1e-10 leaves that factor 10⁴ and still catches any wrong row.
 */
class SiteQuantizerTest {
    @Test
    void relativeErrorInRowBlocksMatchesTheWholeMatrixFormula() {
        var r = new SplittableRandom(5);
        for (int[] shape : new int[][] {{1, 96}, {16, 32}, {17, 96}, {70, 64}}) {   // rows around the 16-row blocks
            int rows = shape[0], cols = shape[1];
            double[] h = hessian(r, cols);
            QuantScheme s = QuantScheme.of(GridKind.ASYM_MINMAX, 4, 32);
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (0.05 * r.nextGaussian());
            }
            QuantizedLinear q = Rtn.quantize(w, rows, cols, s);
            double err = 0, ref = 0, werr = 0, wref = 0;
            for (int k = 0; k < rows; k++) {
                for (int i = 0; i < cols; i++) {
                    double di = w[k * cols + i] - q.value(k, i);
                    werr += di * di;
                    wref += (double) w[k * cols + i] * w[k * cols + i];
                    for (int j = 0; j < cols; j++) {
                        double dj = w[k * cols + j] - q.value(k, j);
                        err += di * h[i * cols + j] * dj;
                        ref += w[k * cols + i] * h[i * cols + j] * w[k * cols + j];
                    }
                }
            }
            double want = err / ref;
            assertTrue(want > 1e-4 && want < 0.1, "4-bit RTN loses a small share: " + want);
            assertEquals(want, SiteQuantizer.relativeError(w, q, h), 1e-10 * want, "rows " + rows);
            assertEquals(werr / wref, SiteQuantizer.relativeError(w, q, null), 1e-10 * werr / wref, "H = I, rows " + rows);
        }
    }

    /**
     * awq-gptq is GPTQ on AWQ's scaled weights and scaled Hessian: where no scale can be folded (scale 1) it is GPTQ
     * itself, bit for bit (the same code path on the same inputs); with scales, its weights are {@code W·diag(s)}.
     */
    @Test
    void awqThenGptqWithScaleOneIsGptq() {
        var r = new SplittableRandom(9);
        int rows = 24, cols = 64;
        double[] h = hessian(r, cols);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (0.05 * r.nextGaussian());
        }
        double[] meanAbs = new double[cols];
        for (int j = 0; j < cols; j++) {
            meanAbs[j] = Math.sqrt(h[j * cols + j] / 2);
        }
        QuantScheme s = QuantScheme.of(GridKind.ASYM_MINMAX, 4, 32);
        var gptq = dev.interlayer.quant.GptqOptions.DEFAULT.withActOrder(true).withStaticGroups(true);
        var lin = java.util.List.of(new SiteQuantizer.Linear("blk.0.attn_output.weight", w, rows, cols, 1));
        var one = SiteQuantizer.quantize(lin, cols, h, meanAbs, null, new SiteQuantizer.Options(
                SiteQuantizer.Method.AWQ_GPTQ, s, gptq, null, false));
        assertEquals(dev.interlayer.quant.Gptq.quantize(w, rows, cols, h, s, gptq).weights(), one.weights().get(0));
        var scaled = SiteQuantizer.quantize(lin, cols, h, meanAbs, null, new SiteQuantizer.Options(
                SiteQuantizer.Method.AWQ_GPTQ, s, gptq, null, true));
        double[] sc = scaled.inputScales();
        assertEquals(dev.interlayer.quant.Gptq.quantize(dev.interlayer.quant.Awq.scaleColumns(w, rows, cols, sc), rows,
                cols, dev.interlayer.quant.Awq.scaledHessian(h, sc), s, gptq).weights(), scaled.weights().get(0));
        assertEquals(SiteQuantizer.Method.AWQ_GPTQ, SiteQuantizer.Method.parse("awq-gptq"));
    }

    // H = 2XᵀX/N of correlated activations (a shared column mixes into every input, so H is far from diagonal).
    private static double[] hessian(SplittableRandom r, int cols) {
        int n = 4 * cols;
        float[] x = new float[n * cols];
        for (int t = 0; t < n; t++) {
            double common = r.nextGaussian();
            for (int c = 0; c < cols; c++) {
                x[t * cols + c] = (float) (common + r.nextGaussian());
            }
        }
        HessianAccumulator acc = new HessianAccumulator(cols);
        acc.accept(x, n, null);
        return acc.hessian();
    }
}
