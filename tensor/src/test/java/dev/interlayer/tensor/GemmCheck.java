package dev.interlayer.tensor;

import dev.interlayer.tensor.simd.GemmKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Shared checking code for the GEMM tests: seeded inputs, the oracle comparison with its error
 * bound, and a shape sweep. Also a {@code main} that the forced-width test runs in a child JVM
 * (species are fixed per JVM), exiting 1 on the first failure.
 *
 * <p>Tolerance: the fast paths sum k float products in some order (vector lanes, FMA, k blocks),
 * so each output is within γ_k·Σ_p|a_p||b_p| of the exact value, γ_k = k·u/(1 - k·u) with
 * u = 2⁻²⁴; the oracle adds one rounding (≤ u·Σ|a||b|) when it narrows its double sum to float.
 * We allow (k + 2)·u·Σ|a||b|, which covers both with margin. F16/BF16 weights need no extra term:
 * the oracle reads the same rounded weight values.
 */
final class GemmCheck {
    static final double U = 0x1p-24;
    static final int[] ODD = {0, 1, 2, 3, 5, 7, 16, 17, 31, 33, 63, 127, 129};

    private GemmCheck() {
    }

    /** Gaussian values in a fresh contiguous tensor of {@code dtype} (F16/BF16 round the F32 draws). */
    static Tensor gaussian(SplittableRandom rng, DType dtype, int... dims) {
        Shape s = Shape.of(dims);
        float[] v = new float[(int) s.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        Tensor f = Tensor.wrap(v, s);
        if (dtype == DType.F32) {
            return f;
        }
        Tensor t = Tensor.zeros(dtype, s);
        t.copyFrom(f);
        return t;
    }

    /**
     * Checks got [m, n] against the oracle for a [m, k]·b [k, n]; returns null if within bound, else a
     * description of the worst element. Also returns the worst error/bound ratio in {@code worst[0]}.
     */
    static String compare(Tensor a, Tensor b, Tensor got, double[] worst) {
        Tensor want = GemmReference.matmul(a, b), scale = GemmReference.absProduct(a, b);
        int m = a.dim(0), k = a.dim(1), n = b.dim(1);
        double worstRatio = 0;
        String worstMsg = null;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double g = got.getFloat(i, j), w = want.getFloat(i, j);
                double bound = (k + 2) * U * scale.getFloat(i, j) + Float.MIN_VALUE;
                double ratio = Math.abs(g - w) / bound;
                if (!(ratio <= worstRatio)) {            // also catches NaN
                    worstRatio = Double.isNaN(ratio) ? Double.POSITIVE_INFINITY : ratio;
                    worstMsg = "at [" + i + ", " + j + "] got " + g + " want " + w + " bound " + bound;
                }
            }
        }
        worst[0] = Math.max(worst[0], worstRatio);
        return worstRatio > 1 ? worstMsg : null;
    }

    /** The shape sweep: every odd size on the diagonal, seeded mixes, and shapes that cross block edges. */
    static List<int[]> shapes(long seed, int mixes) {
        List<int[]> out = new ArrayList<>();
        for (int s : ODD) {
            out.add(new int[] {s, s, s});
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int t = 0; t < mixes; t++) {
            out.add(new int[] {ODD[rng.nextInt(ODD.length)], ODD[rng.nextInt(ODD.length)], ODD[rng.nextInt(ODD.length)]});
        }
        // Each shape runs through matmulT (weights w[n, k]: the weight-stream path for m > 16, KC 2048, MC 128)
        // and matmul (b[k, n]: GemmPacked, KC 256, MC 128, NC 512).
        out.add(new int[] {1, 1000, 777});     // decode: matvec path, k tail
        out.add(new int[] {16, 130, 1000});    // largest small-m
        out.add(new int[] {10, 200, 300});     // matmul, native b (few rows): two k blocks, full column tiles + an edge tile
        out.add(new int[] {13, 64, 7});        // matmul, native b (few rows): one column tile, row tiles of 6, 6, 1
        out.add(new int[] {17, 37, 300});      // smallest weight-stream m: one token panel, mostly padding
        out.add(new int[] {65, 100, 300});     // packed: two k blocks; stream: 3 token panels, edge weight group
        out.add(new int[] {130, 530, 260});    // packed: several MC/NC/KC blocks and edges; stream: two MC blocks
        out.add(new int[] {130, 100, 4100});   // packed: many KC blocks with a k tail; stream: three k blocks (1367, 1367, 1366)
        out.add(new int[] {140, 29, 8195});    // stream: five equal k blocks of 1639, two MC blocks
        out.add(new int[] {256, 50, 2049});    // packed: two whole MC blocks, a one-element KC tail
        out.add(new int[] {520, 37, 70});      // stream: 5 MC blocks (2 threads take whole blocks), 8-row last one
        return out;
    }

    /** x [m, k]·w[n, k]ᵀ through matmulT with {@code kernel}; null or the failure description. */
    static String checkMatmulT(GemmKernel kernel, DType wType, int m, int n, int k, long seed, double[] worst) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor x = gaussian(rng, DType.F32, m, k), w = gaussian(rng, wType, n, k);
        Tensor out = Tensor.zeros(Shape.of(m, n));
        out.copyFrom(gaussian(rng, DType.F32, m, n));   // stale values must be overwritten
        MatMul.matmulT(x, w, out, kernel);
        String err = compare(x, w.transpose(0, 1), out, worst);
        return err == null ? null : kernel.name() + " matmulT " + wType + " m=" + m + " n=" + n + " k=" + k
                + " seed=" + seed + ": " + err;
    }

    /**
     * a [m, k]·b [k, n] through matmul with {@code kernel}, b on the heap (packed path) and in native
     * memory (read in place for m ≤ 16, as ONNX weights are).
     */
    static String checkMatmul(GemmKernel kernel, DType bType, int m, int n, int k, long seed, double[] worst) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor a = gaussian(rng, DType.F32, m, k), b = gaussian(rng, bType, k, n);
        Tensor nativeB = Tensor.allocate(java.lang.foreign.Arena.ofAuto(), bType, b.shape());
        nativeB.copyFrom(b);
        for (Tensor bb : new Tensor[] {b, nativeB}) {
            Tensor out = Tensor.zeros(Shape.of(m, n));
            MatMul.matmul(a, bb, out, kernel);
            String err = compare(a, bb, out, worst);
            if (err != null) {
                return kernel.name() + " matmul " + bType + (bb == b ? " heap" : " native") + " m=" + m + " n=" + n
                        + " k=" + k + " seed=" + seed + ": " + err;
            }
        }
        return null;
    }

    /**
     * Child-JVM entry: sweeps the active kernel (width from -Ddev.interlayer.simd.bits) over dtypes, then checks
     * its row-exact contract ({@link RowExactMatMulTest#sweep}).
     * Arguments: number of random shape mixes (default 12), thread counts (default 1 and 2).
     */
    public static void main(String[] args) {
        int mixes = args.length > 0 ? Integer.parseInt(args[0]) : 12;
        int[] threadCounts = args.length > 1
                ? java.util.Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray() : new int[] {1, 2};
        GemmKernel kernel = MatMul.ACTIVE;
        double[] worst = {0};
        int cases = 0;
        for (int threads : threadCounts) {
            ComputePool.setThreads(threads);
            for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                long seed = 17;
                for (int[] s : shapes(0xC0FFEE, mixes)) {
                    String e1 = checkMatmulT(kernel, dt, s[0], s[1], s[2], seed++, worst);
                    String e2 = checkMatmul(kernel, dt, s[0], s[1], s[2], seed++, worst);
                    cases += 2;
                    if (e1 != null || e2 != null) {
                        System.out.println("FAIL threads=" + threads + " " + (e1 != null ? e1 : e2));
                        System.exit(1);
                    }
                }
            }
        }
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            try {
                RowExactMatMulTest.sweep(dt);                 // a row of a batch == that row alone, this width
            } catch (AssertionError e) {
                System.out.println("FAIL row-exact " + e.getMessage());
                System.exit(1);
            }
        }
        System.out.println("OK kernel=" + kernel.name() + " cases=" + cases + " worst error/bound=" + worst[0]);
    }
}
