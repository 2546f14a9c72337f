package dev.interlayer.quant;

import dev.interlayer.tensor.ComputePool;
import java.util.Arrays;
import java.util.Comparator;

/**
 * GPTQ (Frantar, Ashkboos, Hoefler, Alistarh, "GPTQ: Accurate Post-Training Quantization for Generative
 * Pre-trained Transformers", ICLR 2023): quantizes one input column at a time and moves the not yet quantized
 * columns of the same row so that the layer error {@code tr((W − Ŵ)·H·(W − Ŵ)ᵀ)} grows as little as possible
 * (the Optimal Brain Surgeon update). With {@code U} the upper Cholesky factor of {@code H⁻¹}
 * ({@code Uᵀ·U = H⁻¹}), fixing column {@code c} to its grid value {@code q} gives the scaled error
 * {@code e = (w_c − q)/U[c][c]} and the update {@code W[:, c:] −= e·U[c, c:]}; updates are applied lazily in
 * blocks of columns, so the bulk of the work is a matrix product. All arithmetic is in float64.
 *
 * <p>Pre-processing as in the reference: per-row grids (no groups) come from the original weights; columns
 * with {@code H[j][j] = 0} ("dead") get {@code H[j][j] = 1} and zero weight; optional act-order processes
 * columns by decreasing {@code H[j][j]}; {@code λ = percDamp·mean(diag H)} is added to the diagonal, and again
 * while the Cholesky factorisation fails. Dynamic groups fit their grid from the current (already updated)
 * weights of their {@code g} columns when their first column is reached; static groups fit every grid from the
 * original weights up front.
 */
public final class Gptq {
    private static final int ROWS_PER_TASK = 16;

    private Gptq() {
    }

    /**
     * The result of one layer.
     *
     * @param weights  the quantized layer
     * @param rowLoss  [rows] {@code Σ_c e²/2}: each row's share of {@code ½·tr((W₀ − Ŵ)·H_damped·(W₀ − Ŵ)ᵀ)}
     * @param damping  the total damping added to the diagonal of H
     * @param updated  [rows, cols] (original column order) the value each weight had when its column was rounded,
     *                 i.e. after the updates from earlier columns: the starting point of learned rounding (aespa)
     */
    public record Result(QuantizedLinear weights, double[] rowLoss, double damping, double[] updated) {
    }

    /**
     * Quantizes {@code w} against the Hessian {@code h = 2XᵀX/N} of its inputs.
     * Shapes: {@code w [rows, cols]}, {@code h [cols, cols]} symmetric, both row-major. Neither is modified.
     *
     * @throws IllegalArgumentException on mismatched shapes, or if H stays indefinite after repeated damping
     */
    public static Result quantize(float[] w, int rows, int cols, double[] h, QuantScheme scheme, GptqOptions opt) {
        Shapes.checkMatrix("Gptq.quantize", w.length, rows, cols);
        Shapes.checkSquare("Gptq.quantize", h.length, cols);
        int g = scheme.groupFor(cols);
        int groups = cols == 0 ? 0 : (cols + g - 1) / g;
        boolean perRow = groups <= 1;
        boolean staticGroups = opt.staticGroups() && !perRow;
        double[] wd = new double[rows * cols];           // [rows, cols], becomes the working copy
        for (int i = 0; i < wd.length; i++) {
            wd[i] = w[i];
        }
        float[] scales = new float[rows * groups];
        float[] zeros = new float[rows * groups];
        if (perRow) {                                    // from the original rows, before dead columns are zeroed
            Preprocess.fitGroups(scheme, wd, rows, cols, Math.max(cols, 1), scales, zeros);
        }
        double[] hw = h.clone();
        Preprocess.fixDeadColumns(hw, wd, rows, cols);
        if (staticGroups) {
            Preprocess.fitGroups(scheme, wd, rows, cols, g, scales, zeros);
        }
        int[] perm = opt.actOrder() ? actOrder(hw, cols) : identity(cols);
        double[] wp = permuteColumns(wd, rows, cols, perm);
        double[] hp = permuteSymmetric(hw, cols, perm);
        double[][] factor = new double[1][];
        double damp = cols == 0 ? 0 : Preprocess.damp(hp, cols, opt.percDamp(), "Gptq.quantize: H", factor);
        double[] u = factor[0];
        byte[] codes = new byte[rows * cols];
        double[] loss = new double[rows];
        Columns plan = new Columns(scheme, cols, g, groups, perRow, staticGroups, perm, u, opt.blockSize());
        int tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        ComputePool.parallelFor(tasks, t -> plan.run(wp, t * ROWS_PER_TASK, Math.min(rows, (t + 1) * ROWS_PER_TASK),
                codes, scales, zeros, loss));
        int[] groupIndex = null;
        if (opt.actOrder() && !perRow && !staticGroups) {
            groupIndex = new int[cols];
            for (int k = 0; k < cols; k++) {
                groupIndex[perm[k]] = k / g;
            }
        }
        double[] updated = new double[rows * cols];     // wp keeps each column's value at its rounding time
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                updated[r * cols + perm[k]] = wp[r * cols + k];
            }
        }
        return new Result(new QuantizedLinear(rows, cols, scheme, codes, scales, zeros, groupIndex), loss, damp, updated);
    }

    /** Columns by decreasing {@code H[j][j]}; ties keep the original order. */
    static int[] actOrder(double[] h, int n) {
        Integer[] idx = new Integer[n];
        for (int j = 0; j < n; j++) {
            idx[j] = j;
        }
        Arrays.sort(idx, Comparator.comparingDouble((Integer j) -> -h[j * n + j]));
        int[] p = new int[n];
        for (int j = 0; j < n; j++) {
            p[j] = idx[j];
        }
        return p;
    }

    static int[] identity(int n) {
        int[] p = new int[n];
        for (int j = 0; j < n; j++) {
            p[j] = j;
        }
        return p;
    }

    // out[:, k] = w[:, perm[k]]
    static double[] permuteColumns(double[] w, int rows, int cols, int[] perm) {
        double[] out = new double[w.length];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                out[r * cols + k] = w[r * cols + perm[k]];
            }
        }
        return out;
    }

    // out[a][b] = h[perm[a]][perm[b]]
    static double[] permuteSymmetric(double[] h, int n, int[] perm) {
        double[] out = new double[h.length];
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                out[a * n + b] = h[perm[a] * n + perm[b]];
            }
        }
        return out;
    }

    /**
     * The column loop for a range of rows (rows are independent given U). Works on the permuted weights
     * {@code wp [rows, cols]} in place; writes codes in original column order.
     */
    private record Columns(QuantScheme scheme, int cols, int g, int groups, boolean perRow, boolean staticGroups,
                           int[] perm, double[] u, int block) {
        void run(double[] wp, int r0, int r1, byte[] codes, float[] scales, float[] zeros, double[] loss) {
            int n = r1 - r0, qmin = scheme.kind().minCode(), maxq = scheme.maxq();
            double[] err = new double[n * block];        // [n, block] scaled errors of the current block
            double[] slice = new double[g];
            double[] sz = new double[2];
            for (int i1 = 0; i1 < cols; i1 += block) {
                int i2 = Math.min(cols, i1 + block), b = i2 - i1;
                for (int rr = 0; rr < n; rr++) {
                    int r = r0 + rr, row = r * cols;
                    double scale = perRow ? scales[r] : 0, zero = perRow ? zeros[r] : 0;
                    for (int c = i1; c < i2; c++) {
                        if (!perRow) {
                            int grp;
                            if (staticGroups) {
                                grp = perm[c] / g;
                            } else {
                                grp = c / g;
                                if (c % g == 0) {
                                    int len = current(wp, row, c, Math.min(cols, c + g), i1, i2, err, rr * block, slice);
                                    Grid.search(scheme, slice, 0, len, sz);
                                    scales[r * groups + grp] = (float) sz[0];
                                    zeros[r * groups + grp] = (float) sz[1];
                                }
                            }
                            scale = scales[r * groups + grp];
                            zero = zeros[r * groups + grp];
                        }
                        double x = wp[row + c];
                        int q = Grid.code(scheme.kind(), x, scale, zero, qmin, maxq);
                        codes[row + perm[c]] = (byte) q;
                        double e = (x - Grid.value(scheme.kind(), q, scale, zero)) / u[c * cols + c];
                        err[rr * block + (c - i1)] = e;
                        loss[r] += e * e / 2;
                        DoubleMath.subScaled(wp, row + c + 1, e, u, c * cols + c + 1, i2 - c - 1);
                    }
                }
                if (i2 < cols) {                         // lazy update: W[:, i2:] −= Err · U[i1:i2, i2:]
                    DoubleGemm.multiplyAdd(n, cols - i2, b, -1.0, err, 0, block, 1, u, i1 * cols + i2, cols,
                            wp, r0 * cols + i2, cols);
                }
            }
        }

        // The up-to-date values of positions [c, end) of one row: columns past the block still lack the updates
        // of this block's columns [i1, c), which are added here. Returns end − c.
        private int current(double[] wp, int row, int c, int end, int i1, int i2, double[] err, int eo, double[] out) {
            for (int j = c; j < end; j++) {
                double v = wp[row + j];
                if (j >= i2) {
                    for (int k = i1; k < c; k++) {
                        v -= err[eo + k - i1] * u[k * cols + j];
                    }
                }
                out[j - c] = v;
            }
            return end - c;
        }
    }
}
