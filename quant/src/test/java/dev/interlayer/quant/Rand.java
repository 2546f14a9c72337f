package dev.interlayer.quant;

import java.util.SplittableRandom;

/** Seeded random inputs for the property tests. */
final class Rand {
    private Rand() {
    }

    static float[] gaussian(SplittableRandom r, int n, double sigma) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (sigma * r.nextGaussian());
        }
        return f;
    }

    /** Weights with about 2 % outliers six times larger. */
    static float[] weights(SplittableRandom r, int rows, int cols) {
        float[] w = gaussian(r, rows * cols, 0.05);
        for (int i = 0; i < w.length / 50; i++) {
            w[r.nextInt(w.length)] *= 6;
        }
        return w;
    }

    /** Correlated activations X [n, d]: z · (I + M/√d) with per-column log-normal scales. */
    static float[] activations(SplittableRandom r, int n, int d) {
        double[] mix = new double[d * d];
        for (int i = 0; i < d * d; i++) {
            mix[i] = r.nextGaussian() / Math.sqrt(d) + (i / d == i % d ? 1 : 0);
        }
        double[] scale = new double[d];
        for (int j = 0; j < d; j++) {
            scale[j] = Math.exp(r.nextGaussian());
        }
        float[] x = new float[n * d];
        double[] z = new double[d];
        for (int t = 0; t < n; t++) {
            for (int k = 0; k < d; k++) {
                z[k] = r.nextGaussian();
            }
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) {
                    s += z[k] * mix[k * d + j];
                }
                x[t * d + j] = (float) (s * scale[j]);
            }
        }
        return x;
    }

    /** H = 2XᵀX/N in double. */
    static double[] hessian(float[] x, int n, int d) {
        HessianAccumulator h = new HessianAccumulator(d);
        h.accept(x, n, null);
        return h.hessian();
    }

    static int[] permutation(SplittableRandom r, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    static QuantScheme scheme(SplittableRandom r) {
        GridKind kind = GridKind.values()[r.nextInt(GridKind.values().length)];
        int bits = kind == GridKind.SYM_RESTRICTED ? 4 + r.nextInt(5) : 2 + r.nextInt(7);
        int[] groups = {0, 8, 16, 32, 12};
        return QuantScheme.of(kind, bits, groups[r.nextInt(groups.length)]);
    }
}
