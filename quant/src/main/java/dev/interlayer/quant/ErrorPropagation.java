package dev.interlayer.quant;

/**
 * Quantization error propagation (Arai and Ichikawa, "Quantization Error Propagation: Revisiting Layer-Wise
 * Post-Training Quantization", arXiv 2504.09629): layer-wise quantizers fit {@code Ŵ·X̂ ≈ W·X̂} on the inputs
 * {@code X̂} of the already quantized model, so the error the earlier layers put into {@code X̂} is never
 * corrected. Fitting {@code Ŵ·X̂ ≈ W·X} instead (X the unquantized model's inputs of the same tokens) is a
 * layer-wise problem with another target: with {@code H = Σ x̂x̂ᵀ}, {@code D = Σ (x − x̂)·x̂ᵀ} (both in the same
 * scale, e.g. GPTQ's 2/N) and damping {@code λ = percDamp·mean(diag H)},
 * <pre>  W̃ = W + α·W·D·(H + λI)⁻¹,</pre>
 * and {@code ‖(W̃ − Ŵ)·X̂‖²} is the same objective up to a constant. At α = 1, W̃ is the minimiser of
 * {@code ‖W·X − W̃·X̂‖² + λ‖W̃ − W‖²} (its gradient {@code W̃(H + λI) − W(H + D) − λW} vanishes); α &lt; 1 is the
 * paper's shrinkage of the correction against overfitting the calibration set. Any layer-wise quantizer (GPTQ,
 * BoA, aespa, AWQ) then rounds W̃ with the Hessian H of X̂.
 */
public final class ErrorPropagation {
    private ErrorPropagation() {
    }

    /**
     * The corrected target {@code W̃ = W + α·W·D·(H + λI)⁻¹} of {@code w [rows, cols]}, as float32 (what the
     * quantizers take). {@code h}, {@code d}: {@code [cols, cols]}; d need not be symmetric. Same as
     * {@link #apply} of {@link #correction}; linears that share one input should compute the correction once.
     *
     * @throws IllegalArgumentException on mismatched shapes, or if {@code H + λI} is not positive definite
     */
    public static float[] target(float[] w, int rows, int cols, double[] h, double[] d, double alpha, double percDamp) {
        Shapes.checkMatrix("ErrorPropagation.target", w.length, rows, cols);
        return apply(w, rows, cols, correction(h, d.clone(), cols, percDamp), alpha);
    }

    /**
     * {@code M = D·(H + λI)⁻¹} with {@code λ = percDamp·mean(diag H)}, written over {@code d} (row i of M depends
     * on row i of D only, so no second [cols, cols] array is needed) and returned.
     *
     * @throws IllegalArgumentException on mismatched shapes, or if {@code H + λI} is not positive definite
     */
    public static double[] correction(double[] h, double[] d, int cols, double percDamp) {
        Shapes.checkSquare("ErrorPropagation.target: H", h.length, cols);
        Shapes.checkSquare("ErrorPropagation.target: D", d.length, cols);
        double mean = 0;
        for (int i = 0; i < cols; i++) {
            mean += h[i * cols + i];
        }
        double lambda = percDamp * mean / Math.max(cols, 1);
        double[] hd = h.clone();
        for (int i = 0; i < cols; i++) {
            hd[i * cols + i] += lambda;
        }
        double[] l = Dense.choleskyLower(hd, cols);
        if (l == null) {
            throw new IllegalArgumentException("ErrorPropagation.target: H + λI is not positive definite (" + cols
                    + " columns, λ = " + lambda + "); raise the damping");
        }
        // row i of M solves (H + λI)·mᵢ = D[i, :]ᵀ (H symmetric) by L·Lᵀ: forward into y, back into D's row i
        double[] y = new double[cols];
        for (int i = 0; i < cols; i++) {
            for (int a = 0; a < cols; a++) {
                y[a] = (d[i * cols + a] - DoubleMath.dot(l, a * cols, y, 0, a)) / l[a * cols + a];
            }
            for (int a = cols - 1; a >= 0; a--) {
                double s = y[a];
                for (int b = a + 1; b < cols; b++) {
                    s -= l[b * cols + a] * d[i * cols + b];
                }
                d[i * cols + a] = s / l[a * cols + a];
            }
        }
        return d;
    }

    /** {@code W + α·W·M} of {@code w [rows, cols]} as float32, M from {@link #correction}. */
    public static float[] apply(float[] w, int rows, int cols, double[] m, double alpha) {
        Shapes.checkMatrix("ErrorPropagation.apply", w.length, rows, cols);
        Shapes.checkSquare("ErrorPropagation.apply: M", m.length, cols);
        float[] out = new float[w.length];
        double[] wr = new double[cols], corr = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                wr[c] = w[r * cols + c];
            }
            java.util.Arrays.fill(corr, 0);
            DoubleGemm.multiplyAdd(1, cols, cols, alpha, wr, 0, cols, 1, m, 0, cols, corr, 0, cols);
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = (float) (wr[c] + corr[c]);
            }
        }
        return out;
    }

    /**
     * Accumulates {@code D += scale·Σ_t (x_t − x̂_t)·x̂_tᵀ} over {@code n} rows {@code x, xq [n, cols]} (x from
     * {@code xOff}, x̂ from 0), the cross term of {@link #target}; {@code d [cols, cols]}.
     */
    public static void accumulate(double[] d, float[] x, int xOff, float[] xq, int n, int cols, double scale) {
        double[] delta = new double[n * cols], q = new double[n * cols];
        for (int i = 0; i < n * cols; i++) {
            q[i] = xq[i];
            delta[i] = (double) x[xOff + i] - xq[i];
        }
        // Δᵀ·X̂: A = Δᵀ read with row stride 1 and column stride cols
        DoubleGemm.multiplyAdd(cols, cols, n, scale, delta, 0, 1, cols, q, 0, cols, d, 0, cols);
    }
}
