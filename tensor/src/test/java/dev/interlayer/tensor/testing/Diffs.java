package dev.interlayer.tensor.testing;

/** The largest element-wise distance between two results, for the tests of every module that compare two paths. */
public final class Diffs {
    private Diffs() {
    }

    /**
     * max_i |a_i − b_i|, the difference taken in double; NaN when any difference is NaN (a NaN must fail a tolerance
     * check, which {@code Math.max} alone would not guarantee in every order).
     *
     * @throws AssertionError if the lengths differ
     */
    public static double maxAbs(float[] a, double[] b) {
        if (a.length != b.length) {
            throw new AssertionError("length " + a.length + " vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double e = Math.abs(a[i] - b[i]);
            if (Double.isNaN(e)) {
                return Double.NaN;
            }
            m = Math.max(m, e);
        }
        return m;
    }

    /** As {@link #maxAbs(float[], double[])} for two float results. */
    public static double maxAbs(float[] a, float[] b) {
        double[] wide = new double[b.length];
        for (int i = 0; i < b.length; i++) {
            wide[i] = b[i];
        }
        return maxAbs(a, wide);
    }
}
