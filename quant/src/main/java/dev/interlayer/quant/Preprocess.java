package dev.interlayer.quant;

/** The Hessian and grid preparation GPTQ, BoA and aespa share. */
final class Preprocess {
    private static final int MAX_DAMPINGS = 12;

    private Preprocess() {
    }

    /** Dead input columns ({@code H[j][j] = 0}): {@code H[j][j] := 1} and {@code W[:, j] := 0}. Modifies both. */
    static void fixDeadColumns(double[] h, double[] w, int rows, int cols) {
        for (int j = 0; j < cols; j++) {
            if (h[j * cols + j] == 0) {
                h[j * cols + j] = 1;
                for (int r = 0; r < rows; r++) {
                    w[r * cols + j] = 0;
                }
            }
        }
    }

    /** Fits every (row, group of g columns) grid of {@code w [rows, cols]} with the scheme's clip search. */
    static void fitGroups(QuantScheme scheme, double[] w, int rows, int cols, int g, float[] scales, float[] zeros) {
        int groups = cols == 0 ? 0 : (cols + g - 1) / g;
        double[] sz = new double[2];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < groups; k++) {
                int c0 = k * g;
                Grid.search(scheme, w, r * cols + c0, Math.min(cols, c0 + g) - c0, sz);
                scales[r * groups + k] = (float) sz[0];
                zeros[r * groups + k] = (float) sz[1];
            }
        }
    }

    /**
     * Adds {@code λ = percDamp·mean(diag H)} to the diagonal of {@code h [n, n]} until the upper Cholesky factor
     * of its inverse exists; writes that factor to {@code u[0]} and returns the total damping. Modifies {@code h}.
     *
     * @throws IllegalArgumentException if H stays indefinite ({@code what} names it in the message)
     */
    static double damp(double[] h, int n, double percDamp, String what, double[][] u) {
        double mean = 0;
        for (int j = 0; j < n; j++) {
            mean += h[j * n + j];
        }
        double lambda = percDamp * mean / Math.max(n, 1), total = 0;
        for (int attempt = 0; attempt < MAX_DAMPINGS && (attempt == 0 || lambda > 0); attempt++) {
            for (int j = 0; j < n; j++) {
                h[j * n + j] += lambda;
            }
            total += lambda;
            u[0] = Dense.upperCholeskyOfInverse(h, n);
            if (u[0] != null) {
                return total;
            }
        }
        throw new IllegalArgumentException(what + " [" + n + ", " + n + "] is not positive definite after damping "
                + total + " (check the calibration data)");
    }
}
