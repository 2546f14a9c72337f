package dev.interlayer.tensor;

/**
 * The oracle for matrix products: three loops and a double accumulator over values copied out with
 * {@link Tensor#toFloatArray} (element-wise dtype conversion), so it shares no code with the fast paths.
 * For tests only (slow).
 */
final class GemmReference {
    private GemmReference() {
    }

    /** out[i, j] = Σ_p x[i, p]·w[j, p]. Shapes: x [m, k], w [n, k]; returns a new F32 [m, n]. */
    static Tensor matmulT(Tensor x, Tensor w) {
        return product(x, w.transpose(0, 1));
    }

    /** out[i, j] = Σ_p a[i, p]·b[p, j]. Shapes: a [m, k], b [k, n]; returns a new F32 [m, n]. */
    static Tensor matmul(Tensor a, Tensor b) {
        return product(a, b);
    }

    /** out[i, j] = Σ_p |a[i, p]|·|b[p, j]|: the scale of each output's rounding error bound. */
    static Tensor absProduct(Tensor a, Tensor b) {
        return product(abs(a), abs(b));
    }

    private static Tensor abs(Tensor t) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i]);
        }
        return Tensor.wrap(v, t.shape());
    }

    private static Tensor product(Tensor a, Tensor b) {
        int m = a.dim(0), k = a.dim(1), n = b.dim(1);
        float[] av = a.toFloatArray(), bv = b.toFloatArray();   // [m, k], [k, n]
        float[] out = new float[m * n];                          // [m, n]
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    acc += (double) av[i * k + p] * bv[p * n + j];
                }
                out[i * n + j] = (float) acc;
            }
        }
        return Tensor.wrap(out, Shape.of(m, n));
    }
}
