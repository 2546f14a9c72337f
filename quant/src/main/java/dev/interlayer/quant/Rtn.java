package dev.interlayer.quant;

/**
 * Round-to-nearest: fit each group's grid to the weights alone (with the scheme's clipping search) and round
 * every weight to its nearest grid point, {@code q = clamp(rne(w/scale) + zero, qmin, maxq)}. The data-free
 * baseline every calibrated method is compared with.
 */
public final class Rtn {
    private Rtn() {
    }

    /**
     * Quantizes {@code w}. Shapes: {@code w [rows, cols]} row-major. Does not modify {@code w}.
     *
     * @throws IllegalArgumentException if {@code w.length != rows·cols}
     */
    public static QuantizedLinear quantize(float[] w, int rows, int cols, QuantScheme scheme) {
        return quantize(w, rows, cols, scheme, null);
    }

    /**
     * As {@link #quantize(float[], int, int, QuantScheme)} with the clipping search of each group weighted as
     * llama.cpp's {@code llama-quantize --imatrix} weighs its legacy blocks ({@code quantize_row_q4_1_impl} and its
     * siblings): weight {@code (r, c)} counts {@code a_rc = importance[c]·sqrt(σ_r² + w_rc²)}, {@code σ_r²} the mean
     * square of row r, in {@code Σ_c a_rc·|ŵ_rc − w_rc|^norm} ({@link Grid#search(QuantScheme, double[], int, int,
     * double[], double[])}); {@code importance [cols]} is an importance matrix's {@code E[x_c²]}, or null for the
     * unweighted search. The second factor leans towards large weights, as llama.cpp's does. Without a clipping search
     * in the scheme the weights change nothing (every group keeps its full range).
     *
     * @throws IllegalArgumentException if {@code w.length != rows·cols} or {@code importance.length != cols}
     */
    public static QuantizedLinear quantize(float[] w, int rows, int cols, QuantScheme scheme, double[] importance) {
        Shapes.checkMatrix("Rtn.quantize", w.length, rows, cols);
        if (importance != null && importance.length != cols) {
            throw new IllegalArgumentException("Rtn.quantize: need one importance per column, " + cols + "; got "
                    + importance.length);
        }
        int g = scheme.groupFor(cols);
        int groups = cols == 0 ? 0 : (cols + g - 1) / g;
        byte[] codes = new byte[rows * cols];
        float[] scales = new float[rows * groups];
        float[] zeros = new float[rows * groups];
        int qmin = scheme.kind().minCode(), maxq = scheme.maxq();
        double[] row = new double[cols];
        double[] weight = importance == null ? null : new double[cols];
        double[] sz = new double[2];
        for (int r = 0; r < rows; r++) {
            double sigma2 = 0;
            for (int c = 0; c < cols; c++) {
                row[c] = w[r * cols + c];
                sigma2 += row[c] * row[c];
            }
            if (weight != null) {
                sigma2 /= cols;
                for (int c = 0; c < cols; c++) {
                    weight[c] = importance[c] * Math.sqrt(sigma2 + row[c] * row[c]);
                }
            }
            for (int k = 0; k < groups; k++) {
                int c0 = k * g, c1 = Math.min(cols, c0 + g);
                Grid.search(scheme, row, c0, c1 - c0, weight, sz);
                scales[r * groups + k] = (float) sz[0];
                zeros[r * groups + k] = (float) sz[1];
                for (int c = c0; c < c1; c++) {
                    codes[r * cols + c] = (byte) Grid.code(scheme.kind(), row[c], sz[0], sz[1], qmin, maxq);
                }
            }
        }
        return new QuantizedLinear(rows, cols, scheme, codes, scales, zeros, null);
    }
}
