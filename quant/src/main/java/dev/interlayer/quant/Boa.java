package dev.interlayer.quant;

/**
 * BoA (Kim et al., "BoA: Attention-aware Post-training Quantization without Backpropagation", ICML 2025):
 * GPTQ-style error compensation across the rows of each attention head as well as across columns. For a
 * head's block {@code W_h [d_h, d]} the attention-aware objective {@code tr(H_row·ΔW·H_col·ΔWᵀ)} has the
 * Hessian {@code H_row ⊗ H_col}, whose inverse has the upper Cholesky factor {@code U_row ⊗ U_col}; so row
 * {@code r} is quantized by GPTQ with {@code U_col}, and its total change {@code Δ = w_r − q_r} is pushed into
 * each later row {@code r' > r} of the same head: {@code W[r'] −= (U_row[r][r']/U_row[r][r])·Δ}. The result
 * equals GPTQ on the row-major flattened head with Hessian {@code kron(H_row, H_col)}. Heads are independent.
 *
 * <p>{@code H_row} per head is {@code 2E[k kᵀ]} of the head's keys for a query projection, of its queries for
 * a key projection (after RoPE, un-rotated into weight space, averaged over the query heads of a GQA group);
 * with {@code H_row = I} this is per-row GPTQ. Pre-processing as GPTQ: dead input columns get
 * {@code H_col[j][j] = 1} and zero weight, and 1 % of the mean diagonal is added to both Hessians (again while
 * a Cholesky fails). Grids: per row from the original weights, or static groups from the weights after the
 * dead-column fix (dynamic groups and act-order are not implemented here).
 */
public final class Boa {
    private Boa() {
    }

    /**
     * Quantizes {@code w [heads·headDim, cols]} (head {@code h} owns rows {@code [h·headDim, (h+1)·headDim)}).
     * Shapes: {@code hCol [cols, cols]}; {@code hRow[h] [headDim, headDim]} per head. Nothing passed in is
     * modified.
     *
     * @throws IllegalArgumentException on mismatched shapes or a Hessian that stays indefinite
     */
    public static QuantizedLinear quantize(float[] w, int heads, int headDim, int cols, double[] hCol, double[][] hRow,
                                           QuantScheme scheme, double percDamp) {
        int rows = heads * headDim;
        Shapes.checkMatrix("Boa.quantize", w.length, rows, cols);
        Shapes.checkSquare("Boa.quantize (column Hessian)", hCol.length, cols);
        if (hRow.length != heads) {
            throw new IllegalArgumentException("Boa.quantize: need one row Hessian per head (" + heads + "), got " + hRow.length);
        }
        for (double[] hr : hRow) {
            if ((long) headDim * headDim != hr.length) {
                throw new IllegalArgumentException("Boa.quantize: need row Hessians [" + headDim + ", " + headDim
                        + "], got " + hr.length + " values");
            }
        }
        int g = scheme.groupFor(cols);
        int groups = cols == 0 ? 0 : (cols + g - 1) / g;
        double[] wd = new double[rows * cols];
        for (int i = 0; i < wd.length; i++) {
            wd[i] = w[i];
        }
        float[] scales = new float[rows * groups];
        float[] zeros = new float[rows * groups];
        if (groups <= 1) {
            Preprocess.fitGroups(scheme, wd, rows, cols, Math.max(cols, 1), scales, zeros);
        }
        double[] hc = hCol.clone();
        Preprocess.fixDeadColumns(hc, wd, rows, cols);
        if (groups > 1) {
            Preprocess.fitGroups(scheme, wd, rows, cols, g, scales, zeros);
        }
        double[][] factor = new double[1][];
        Preprocess.damp(hc, cols, percDamp, "Boa.quantize: the column Hessian", factor);
        double[] uCol = factor[0];
        byte[] codes = new byte[rows * cols];
        int qmin = scheme.kind().minCode(), maxq = scheme.maxq();
        double[] delta = new double[cols];
        for (int h = 0; h < heads; h++) {
            Preprocess.damp(hRow[h].clone(), headDim, percDamp, "Boa.quantize: the row Hessian of head " + h, factor);
            double[] uRow = factor[0];
            for (int i = 0; i < headDim; i++) {
                int r = h * headDim + i, row = r * cols;
                System.arraycopy(wd, row, delta, 0, cols);         // the row before its own GPTQ pass
                for (int c = 0; c < cols; c++) {
                    int k = r * groups + (groups <= 1 ? 0 : c / g);
                    double x = wd[row + c];
                    int q = Grid.code(scheme.kind(), x, scales[k], zeros[k], qmin, maxq);
                    codes[row + c] = (byte) q;
                    double qv = Grid.value(scheme.kind(), q, scales[k], zeros[k]);
                    double e = (x - qv) / uCol[c * cols + c];
                    DoubleMath.subScaled(wd, row + c + 1, e, uCol, c * cols + c + 1, cols - c - 1);
                    wd[row + c] = qv;
                }
                for (int c = 0; c < cols; c++) {
                    delta[c] -= wd[row + c];                        // Δ = row before − its grid values
                }
                for (int i2 = i + 1; i2 < headDim; i2++) {
                    double f = uRow[i * headDim + i2] / uRow[i * headDim + i];
                    if (f != 0) {
                        DoubleMath.subScaled(wd, (h * headDim + i2) * cols, f, delta, 0, cols);
                    }
                }
            }
        }
        return new QuantizedLinear(rows, cols, scheme, codes, scales, zeros, null);
    }
}
