package dev.interlayer.quant;

/** The layer reconstruction error {@code tr((W − Ŵ)·H·(W − Ŵ)ᵀ)} (= ‖(W − Ŵ)Xᵀ‖²·2/N for H = 2XᵀX/N). */
final class LayerError {
    private LayerError() {
    }

    static double of(float[] w, QuantizedLinear q, double[] h) {
        double[] wd = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            wd[i] = w[i];
        }
        return trace(wd, q, h);
    }

    static double trace(double[] w, QuantizedLinear q, double[] h) {
        int cols = q.cols();
        double total = 0;
        double[] d = new double[cols];
        for (int r = 0; r < q.rows(); r++) {
            for (int c = 0; c < cols; c++) {
                d[c] = w[r * cols + c] - q.value(r, c);
            }
            for (int i = 0; i < cols; i++) {
                double s = 0;
                for (int j = 0; j < cols; j++) {
                    s += h[i * cols + j] * d[j];
                }
                total += d[i] * s;
            }
        }
        return total;
    }
}
