package dev.interlayer.tensor;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/** Seeded inputs and tensor layouts shared by the tensor tests. */
public final class Fixtures {
    /** ggml's odd lengths plus model widths. */
    public static final int[] SIZES = {0, 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63, 127, 129, 255, 1023, 2048, 4096};
    /** Every FloatVector width the SIMD kernels are generated for. */
    public static final int[] WIDTHS = {128, 256, 512};
    /** Unit roundoff of float (2^-24). */
    public static final double EPS = Math.ulp(1f) / 2;

    private Fixtures() {
    }

    /** Where and how a tensor's values are stored. */
    public enum Layout {
        /** Contiguous F32 in a float[] (the direct fast path). */
        HEAP,
        /** Contiguous F32 in native memory (bulk-copied rows). */
        NATIVE,
        /** F32 view with last-axis stride 2 and a non-zero offset (gathered rows). */
        STRIDED,
        /** F16 storage (values rounded to half precision). */
        F16,
        /** BF16 storage (values rounded to bfloat16). */
        BF16
    }

    /** n Gaussian values with standard deviation sigma. */
    public static float[] gaussian(SplittableRandom rng, int n, double sigma) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (gaussian(rng) * sigma);
        }
        return a;
    }

    /** One standard normal sample (Box-Muller). */
    public static double gaussian(SplittableRandom rng) {
        double u = rng.nextDouble(), w = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
    }

    /** n values uniform in [lo, hi). */
    public static float[] uniform(SplittableRandom rng, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextDouble(lo, hi);
        }
        return a;
    }

    /** A tensor of shape s holding values (row-major), stored as layout l. */
    public static Tensor make(Layout l, Shape s, float[] values) {
        Tensor src = Tensor.wrap(values.clone(), s);
        return switch (l) {
            case HEAP -> src;
            case NATIVE -> {
                Tensor t = Tensor.allocate(Arena.ofAuto(), DType.F32, s);
                t.copyFrom(src);
                yield t;
            }
            case STRIDED -> {
                Tensor t = strided(s);
                t.copyFrom(src);
                yield t;
            }
            case F16, BF16 -> {
                Tensor t = Tensor.zeros(l == Layout.F16 ? DType.F16 : DType.BF16, s);
                t.copyFrom(src);
                yield t;
            }
        };
    }

    /** A zero F32 output of shape s in layout l (F16/BF16 layouts give plain heap F32 outputs). */
    public static Tensor out(Layout l, Shape s) {
        return switch (l) {
            case NATIVE -> Tensor.allocate(Arena.ofAuto(), DType.F32, s);
            case STRIDED -> strided(s);
            default -> Tensor.zeros(s);
        };
    }

    // A view of shape s whose last axis has stride 2 and whose offset is 1: storage s + [2], element 1.
    private static Tensor strided(Shape s) {
        int[] d = s.dims();
        int[] big = java.util.Arrays.copyOf(d, d.length + 1);
        big[d.length] = 2;
        return Tensor.zeros(Shape.of(big)).select(-1, 1);
    }

    /** Units in the last place of expected that actual is away by (0 when both NaN or equal). */
    public static double ulps(float expected, float actual) {
        if (Float.isNaN(expected) && Float.isNaN(actual) || expected == actual) {
            return 0;
        }
        if (Float.isNaN(expected) || Float.isNaN(actual) || Float.isInfinite(expected)) {
            return Double.POSITIVE_INFINITY;
        }
        return Math.abs((double) actual - expected) / Math.ulp(expected);
    }
}
