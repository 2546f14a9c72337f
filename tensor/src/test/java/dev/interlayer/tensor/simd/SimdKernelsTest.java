package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.Fixtures.EPS;
import static dev.interlayer.tensor.Fixtures.SIZES;
import static dev.interlayer.tensor.Fixtures.WIDTHS;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.interlayer.tensor.Binary;
import dev.interlayer.tensor.Fixtures;
import dev.interlayer.tensor.Fixtures.Layout;
import dev.interlayer.tensor.Kernels;
import dev.interlayer.tensor.Reduction;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.SoftmaxOptions;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;
import dev.interlayer.tensor.kernel.ScalarKernels;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every SIMD kernel against the scalar oracle, at every vector width (128, 256, 512, constructed
 * directly), over ggml's odd lengths and model widths, for heap, native, strided (gathered) and
 * F16/BF16 inputs and for heap, native and strided outputs. Inputs are seeded; a failure names the
 * op, width, layout, size, seed and element. Worst errors per op are printed after the run.
 *
 * <p>Tolerances (u = 2^-24, the float unit roundoff):
 * <ul>
 * <li>binary ops, scale, RoPE, embedding, concat, MAX/ARGMAX: exact. Both sides do the same single
 *     IEEE float operations in the same order (RoPE's cos/sin come from the same double formula).</li>
 * <li>tensor axpy: |d| <= 2u(|y| + |αx|): SIMD fuses α·x + y (one rounding), the oracle rounds twice.</li>
 * <li>unary: a few ulps of the double-precision oracle, per op below; SVML exp/log/tanh are ~1 ulp and
 *     composites (sigmoid, SiLU, GELU, softplus) add one rounding per step. GELU_ERF uses a vector erfc
 *     with relative error 1.2e-7 whose argument -x/√2 is rounded, which grows like 2z²u in the tail.</li>
 * <li>SUM/MEAN/dot: |d| <= n·u·Σ|x| (float accumulation vs double, the standard γ_n bound).
 *     L2_NORM: relative n·u (all terms positive).</li>
 * <li>rmsNorm: relative (n/2 + 4)·u: sum of squares relative error n·u, halved by the square root,
 *     plus the roundings of x·inv·w.</li>
 * <li>layerNorm: |d| <= (2n + 8)·u·(|y| + mean|x|·inv·|w|) + u·|b|: errors of the float mean and
 *     variance enter through (x - mean)·inv.</li>
 * <li>softmax: |d| <= p·u·(n + 8 + 4·max|z|): float sum (n·u), SVML exp (~2u), and the rounding of
 *     z = x·scale before exp, which is an absolute error u·|z| in the exponent. logSoftmax: absolute
 *     u·(n + 8 + 4·max|z|) by the same terms. Soft-capping adds tanh: bounds doubled.</li>
 * </ul>
 */
class SimdKernelsTest {
    private static final Kernels ORACLE = new ScalarKernels();
    private static final SimdKernels[] SIMD = new SimdKernels[WIDTHS.length];
    private static final Errors ERRORS = new Errors();
    private static final Layout[] IN_LAYOUTS = Layout.values();
    private static final Layout[] OUT_LAYOUTS = {Layout.HEAP, Layout.NATIVE, Layout.STRIDED};

    static {
        for (int i = 0; i < WIDTHS.length; i++) {
            SIMD[i] = new SimdKernels(WIDTHS[i]);
        }
    }

    @AfterAll
    static void printWorst() {
        System.out.println("SimdKernelsTest worst errors vs scalar oracle:\n" + ERRORS.report());
    }

    private static long seed(String op, int n, int layout) {
        return 0x5EEDL ^ ((long) op.hashCode() << 20) ^ ((long) n << 4) ^ layout;
    }

    private static String ctx(SimdKernels k, Layout in, Layout out, int n, long seed) {
        return k.name() + " in=" + in + " out=" + out + " n=" + n + " seed=" + Long.toHexString(seed);
    }

    // Runs oracle once and every width once per (size, input layout, output layout), comparing whole outputs.
    private static void sweep(String op, int rows, InputMaker inputs, BiFunction<Kernels, Tensor[], Tensor> run,
                              OutputBound bound) {
        for (int n : SIZES) {
            for (int li = 0; li < IN_LAYOUTS.length; li++) {
                Layout in = IN_LAYOUTS[li];
                Layout outL = OUT_LAYOUTS[li % OUT_LAYOUTS.length];
                long seed = seed(op, n, li);
                Tensor[] args = inputs.make(new SplittableRandom(seed), in, Shape.of(rows, n));
                Tensor expectedT = run.apply(ORACLE, withOut(args, Fixtures.out(Layout.HEAP, args[args.length - 1].shape())));
                float[] expected = expectedT.toFloatArray();
                Errors.Bound b = bound.bound(args, expected, n);
                for (SimdKernels k : SIMD) {
                    Tensor out = Fixtures.out(outL, args[args.length - 1].shape());
                    float[] actual = run.apply(k, withOut(args, out)).toFloatArray();
                    ERRORS.check(op, ctx(k, in, outL, n, seed), expected, actual, b);
                }
            }
        }
    }

    // args with the last slot (a template of the output shape) replaced by out.
    private static Tensor[] withOut(Tensor[] args, Tensor out) {
        Tensor[] a = args.clone();
        a[a.length - 1] = out;
        return a;
    }

    @FunctionalInterface
    interface InputMaker {
        /** Inputs in layout l; the last element only carries the output shape. */
        Tensor[] make(SplittableRandom rng, Layout l, Shape shape);
    }

    @FunctionalInterface
    interface OutputBound {
        Errors.Bound bound(Tensor[] args, float[] expected, int n);
    }

    private static Errors.Bound exact() {
        return (i, e) -> 0;
    }

    private static float[] values(Tensor t) {
        return t.toFloatArray();
    }

    // ---- element-wise ----

    @ParameterizedTest
    @EnumSource(Binary.class)
    void binaryMatchesOracle(Binary op) {
        // Same shapes, then the broadcast shapes a model uses: bias [n] over rows, a column [rows, 1].
        sweep("binary " + op, 3, (rng, l, s) -> new Tensor[] {
                Fixtures.make(l, s, Fixtures.gaussian(rng, (int) s.size(), 2)),
                Fixtures.make(Layout.HEAP, s, Fixtures.gaussian(rng, (int) s.size(), 2)), Tensor.zeros(s)},
                (k, a) -> k.binary(op, a[0], a[1], a[2]), (a, e, n) -> exact());
        sweep("binary " + op + " bcast row", 3, (rng, l, s) -> new Tensor[] {
                Fixtures.make(l, s, Fixtures.gaussian(rng, (int) s.size(), 2)),
                Fixtures.make(l, Shape.of(s.dim(1)), Fixtures.gaussian(rng, s.dim(1), 2)), Tensor.zeros(s)},
                (k, a) -> k.binary(op, a[0], a[1], a[2]), (a, e, n) -> exact());
        sweep("binary " + op + " bcast col", 3, (rng, l, s) -> new Tensor[] {
                Fixtures.make(l, Shape.of(3, 1), Fixtures.gaussian(rng, 3, 2)),
                Fixtures.make(l, Shape.of(1, s.dim(1)), Fixtures.gaussian(rng, s.dim(1), 2)), Tensor.zeros(s)},
                (k, a) -> k.binary(op, a[0], a[1], a[2]), (a, e, n) -> exact());
    }

    @Test
    void scaleAndAxpyMatchOracle() {
        sweep("scale", 2, (rng, l, s) -> new Tensor[] {
                Fixtures.make(l, s, Fixtures.gaussian(rng, (int) s.size(), 3)), Tensor.zeros(s)},
                (k, a) -> k.scale(a[0], -0.37f, a[1]), (a, e, n) -> exact());
        float alpha = 0.731f;
        sweep("axpy tensor", 2, (rng, l, s) -> new Tensor[] {
                Fixtures.make(l, s, Fixtures.gaussian(rng, (int) s.size(), 3)),
                Fixtures.make(Layout.HEAP, s, Fixtures.gaussian(rng, (int) s.size(), 3))},
                (k, a) -> {
                    // a[1] is y's template here: axpy writes into y, so y must carry values in the out layout.
                    Tensor y = a[a.length - 1];
                    return k.axpy(alpha, a[0], y);
                },
                (a, e, n) -> {
                    float[] x = values(a[0]);
                    return (i, ex) -> 2 * EPS * (Math.abs(ex) + Math.abs(alpha * x[i]));
                });
    }

    @Test
    void axpyTensorUpdatesEveryOutputLayout() {
        // The sweep above hands fresh (zero) y's to both sides; here y carries values in each layout.
        SplittableRandom rng = new SplittableRandom(11);
        for (int n : SIZES) {
            Shape s = Shape.of(2, n);
            float[] x = Fixtures.gaussian(rng, 2 * n, 3), y = Fixtures.gaussian(rng, 2 * n, 3);
            Tensor ye = Tensor.wrap(y.clone(), s);
            ORACLE.axpy(-1.25f, Tensor.wrap(x, s), ye);
            float[] expected = ye.toFloatArray();
            for (SimdKernels k : SIMD) {
                for (Layout l : OUT_LAYOUTS) {
                    Tensor yt = Fixtures.make(l, s, y);
                    k.axpy(-1.25f, Fixtures.make(Layout.STRIDED, s, x), yt);
                    ERRORS.check("axpy tensor", k.name() + " y=" + l + " n=" + n, expected, yt.toFloatArray(),
                            (i, e) -> 2 * EPS * (Math.abs(e) + Math.abs(1.25f * x[i])));
                }
            }
        }
    }

    /** Allowed ulps per unary op (see class comment); the absolute floor covers results near zero/underflow. */
    private static double ulpBudget(Unary f) {
        return switch (f) {
            case RELU, RELU2, NEG, ABS, SQUARE, SQRT -> 0;   // single correctly rounded operation
            case RSQRT -> 1;                                 // sqrt then divide: two roundings
            case EXP, LOG, TANH -> 2;                        // SVML, documented within 1 ulp (+ our rounding of the oracle)
            case SIGMOID, SILU, SOFTPLUS, GELU_TANH -> 6;    // exp plus 2-4 dependent roundings
            case GELU_ERF -> 8;                              // erfc fit 1.2e-7 (2 ulp) plus 4 roundings
        };
    }

    /**
     * Allowed error of unary f at input x. GELUs put a rounded argument w into exp(-w²) or exp(-w): an
     * argument error of k·u·|w| becomes a relative output error of that size times the derivative, so
     * the budget grows in the left tail: +4z² ulps for GELU_ERF (z = x/√2, erfc'/erfc ≈ 2z) and
     * +3|2u| ulps for GELU_TANH (2u = 2√(2/π)(x + 0.044715x³), ~5 half-ulp roundings in u).
     */
    private static double allowed(Unary f, float x, float expected) {
        double ulps = ulpBudget(f);
        if (f == Unary.GELU_ERF) {
            ulps += 4 * (x * (double) x / 2);
        } else if (f == Unary.GELU_TANH) {
            ulps += 3 * Math.abs(2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * (double) x * x));
        }
        return Math.max(ulps * Math.ulp(expected), 1e-30);
    }

    private static float[] unaryInput(Unary f, SplittableRandom rng, int n) {
        return switch (f) {
            case LOG, SQRT, RSQRT -> Fixtures.uniform(rng, n, 1e-6, 50);
            case EXP -> Fixtures.uniform(rng, n, -87, 88);
            case GELU_ERF, GELU_TANH -> Fixtures.uniform(rng, n, -9, 9);
            default -> Fixtures.gaussian(rng, n, 6);
        };
    }

    @ParameterizedTest
    @EnumSource(Unary.class)
    void unaryMatchesOracle(Unary f) {
        sweep("unary " + f, 2, (rng, l, s) -> new Tensor[] {
                Fixtures.make(l, s, unaryInput(f, rng, (int) s.size())), Tensor.zeros(s)},
                (k, a) -> k.unary(f, a[0], a[1]),
                (a, e, n) -> {
                    float[] x = values(a[0]);
                    return (i, ex) -> allowed(f, x[i], ex);
                });
    }

    @ParameterizedTest
    @EnumSource(Unary.class)
    void unarySpecialValuesMatchOracle(Unary f) {
        float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
                -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f, 20f, 20.5f, -20f,
                88.7f, 89f, -87.3f, -104f, -110f, 1e-20f, -1e-20f, 0.5f, -0.5f, 7f, -7f, 13f, -13f};
        Tensor x = Tensor.wrap(special);
        float[] expected = ORACLE.unary(f, x, Tensor.zeros(special.length)).toFloatArray();
        for (SimdKernels k : SIMD) {
            float[] actual = k.unary(f, x, Tensor.zeros(special.length)).toFloatArray();
            // Tiny results (|e| < 1e-30, e.g. GELU far left, sigmoid underflow) lose relative precision through
            // subnormal intermediates; no model distinguishes them from zero.
            ERRORS.check("unary " + f + " special", k.name(), expected, actual,
                    (i, e) -> allowed(f, special[i], e));
        }
    }

    // ---- reductions ----

    @ParameterizedTest
    @EnumSource(Reduction.class)
    void reduceLastAxisMatchesOracle(Reduction r) {
        sweep("reduce " + r, 3, (rng, l, s) -> new Tensor[] {
                Fixtures.make(l, s, Fixtures.gaussian(rng, (int) s.size(), 2)), Tensor.zeros(3, 1)},
                (k, a) -> {
                    if (a[0].dim(-1) == 0 && (r == Reduction.MAX || r == Reduction.ARGMAX)) {
                        return a[1]; // empty axis is rejected; checked in SimdBadInputTest
                    }
                    return k.reduce(r, a[0], -1, a[1]);
                },
                (a, e, n) -> reduceBound(r, values(a[0]), 3, n));
    }

    @ParameterizedTest
    @EnumSource(Reduction.class)
    void reduceLeadingAxisMatchesOracle(Reduction r) {
        // x [n, 3] reduced over axis 0: each output gathers a column with stride 3.
        for (int n : SIZES) {
            if (n == 0 && (r == Reduction.MAX || r == Reduction.ARGMAX)) {
                continue;
            }
            long seed = seed("reduce0 " + r, n, 0);
            float[] xv = Fixtures.gaussian(new SplittableRandom(seed), 3 * n, 2);
            Tensor x = Tensor.wrap(xv, Shape.of(n, 3));
            float[] expected = ORACLE.reduce(r, x, 0, Tensor.zeros(1, 3)).toFloatArray();
            float[] colMajor = Tensor.wrap(xv, Shape.of(n, 3)).transpose(0, 1).toFloatArray();
            for (SimdKernels k : SIMD) {
                float[] actual = k.reduce(r, x, 0, Tensor.zeros(1, 3)).toFloatArray();
                ERRORS.check("reduce " + r + " axis0", k.name() + " n=" + n, expected, actual,
                        reduceBound(r, colMajor, 3, n));
            }
        }
    }

    // x holds `rows` rows of n values; output i reduces row i.
    private static Errors.Bound reduceBound(Reduction r, float[] x, int rows, int n) {
        double[] absSum = new double[rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < n; j++) {
                absSum[i] += Math.abs(x[i * n + j]);
            }
        }
        return switch (r) {
            case MAX, ARGMAX -> exact();
            case SUM -> (i, e) -> n * EPS * absSum[i] + Math.ulp(e);
            case MEAN -> (i, e) -> (n * EPS * absSum[i]) / Math.max(n, 1) + Math.ulp(e);
            case L2_NORM -> (i, e) -> (n + 2) * EPS * Math.abs(e) + Math.ulp(e);
        };
    }

    @ParameterizedTest
    @EnumSource(Reduction.class)
    void reduceWithNanInfAndSignedZerosMatchesOracle(Reduction r) {
        // MAX/ARGMAX must propagate NaN (first NaN wins) and treat -0 == +0 like the oracle.
        SplittableRandom rng = new SplittableRandom(77);
        float[] pool = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, 1f, -1f};
        for (int n : new int[] {1, 5, 17, 33, 129}) {
            for (int t = 0; t < 20; t++) {
                float[] x = new float[3 * n];
                for (int i = 0; i < x.length; i++) {
                    x[i] = rng.nextInt(4) == 0 ? pool[rng.nextInt(pool.length)] : pool[3 + rng.nextInt(4)];
                }
                Tensor xt = Tensor.wrap(x, Shape.of(3, n));
                float[] expected = ORACLE.reduce(r, xt, 1, Tensor.zeros(3, 1)).toFloatArray();
                for (SimdKernels k : SIMD) {
                    float[] actual = k.reduce(r, xt, 1, Tensor.zeros(3, 1)).toFloatArray();
                    for (int i = 0; i < 3; i++) {
                        // Sums of ±Inf/NaN are NaN on both sides; -0 vs +0 compare equal.
                        assertEquals(expected[i] + 0f, actual[i] + 0f, 0f, k.name() + " " + r + " n=" + n + " try " + t
                                + " row " + i + " of " + java.util.Arrays.toString(x));
                    }
                }
            }
        }
    }

    // ---- norms ----

    @Test
    void rmsNormMatchesOracle() {
        for (int variant = 0; variant < 3; variant++) {
            boolean onePlus = variant == 2;
            boolean weighted = variant > 0;
            String op = "rmsNorm" + (weighted ? onePlus ? " (1+w)" : " w" : "");
            sweep(op, 3, (rng, l, s) -> new Tensor[] {
                    Fixtures.make(l, s, Fixtures.gaussian(rng, (int) s.size(), 3)),
                    weighted ? Fixtures.make(l, Shape.of(s.dim(1)), Fixtures.gaussian(rng, s.dim(1), 1)) : null,
                    Tensor.zeros(s)},
                    (k, a) -> k.rmsNorm(a[0], a[1], 1e-5f, onePlus, a[2]),
                    (a, e, n) -> (i, ex) -> (n / 2.0 + 4) * EPS * Math.abs(ex) + 1e-37);
        }
    }

    @Test
    void layerNormMatchesOracle() {
        for (int variant = 0; variant < 3; variant++) {
            boolean w = variant > 0, b = variant > 1;
            String op = "layerNorm" + (w ? " w" : "") + (b ? "+b" : "");
            sweep(op, 3, (rng, l, s) -> new Tensor[] {
                    Fixtures.make(l, s, Fixtures.gaussian(rng, (int) s.size(), 3)),
                    w ? Fixtures.make(l, Shape.of(s.dim(1)), Fixtures.gaussian(rng, s.dim(1), 1)) : null,
                    b ? Fixtures.make(l, Shape.of(s.dim(1)), Fixtures.gaussian(rng, s.dim(1), 1)) : null,
                    Tensor.zeros(s)},
                    (k, a) -> k.layerNorm(a[0], a[1], a[2], 1e-5f, a[3]),
                    (a, e, n) -> layerNormBound(a, n));
        }
    }

    private static Errors.Bound layerNormBound(Tensor[] a, int n) {
        float[] x = values(a[0]);
        float[] w = a[1] == null ? null : values(a[1]);
        float[] b = a[2] == null ? null : values(a[2]);
        double[] meanAbsTimesInv = new double[3];
        for (int r = 0; r < 3 && n > 0; r++) {
            double mean = 0, absMean = 0, var = 0;
            for (int j = 0; j < n; j++) {
                mean += x[r * n + j];
                absMean += Math.abs(x[r * n + j]);
            }
            mean /= n;
            for (int j = 0; j < n; j++) {
                var += (x[r * n + j] - mean) * (x[r * n + j] - mean);
            }
            meanAbsTimesInv[r] = absMean / n / Math.sqrt(var / n + 1e-5);
        }
        return (i, e) -> {
            int r = i / Math.max(n, 1), j = i % Math.max(n, 1);
            double wj = w == null ? 1 : Math.abs(w[j]);
            double bj = b == null ? 0 : Math.abs(b[j]);
            return (2.0 * n + 8) * EPS * (Math.abs(e) + meanAbsTimesInv[r] * wj) + EPS * bj + 1e-37;
        };
    }

    // ---- softmax ----

    @Test
    void softmaxMatchesOracle() {
        Tensor[] maskHolder = new Tensor[1];
        SoftmaxOptions[] opts = {
            SoftmaxOptions.NONE,
            new SoftmaxOptions(0.125f, 0f, null, false, 0, 0),
            new SoftmaxOptions(1f, 5f, null, false, 0, 0),
            new SoftmaxOptions(1f, 0f, null, true, 1, 0),
            new SoftmaxOptions(0.5f, 0f, null, true, 2, 3),
        };
        String[] names = {"plain", "scale", "softcap", "causal", "causal+window"};
        for (boolean log : new boolean[] {false, true}) {
            for (int o = 0; o < opts.length; o++) {
                SoftmaxOptions opt = opts[o];
                boolean capped = opt.softcap() > 0;
                String op = (log ? "logSoftmax " : "softmax ") + names[o];
                sweep(op, 4, (rng, l, s) -> new Tensor[] {
                        Fixtures.make(l, s, Fixtures.gaussian(rng, (int) s.size(), 4)), Tensor.zeros(s)},
                        (k, a) -> log ? k.logSoftmax(a[0], opt, a[1]) : k.softmax(a[0], opt, a[1]),
                        (a, e, n) -> softmaxBound(a[0], opt, n, log, capped));
            }
            // Additive mask [4, n] broadcast over a leading axis, with -inf entries and a fully masked row.
            String op = (log ? "logSoftmax" : "softmax") + " mask";
            sweep(op, 4, (rng, l, s) -> {
                int n = s.dim(1);
                float[] m = Fixtures.gaussian(rng, 4 * n, 1);
                for (int i = 0; i < m.length; i++) {
                    if (rng.nextInt(5) == 0 || i / Math.max(n, 1) == 2) {
                        m[i] = Float.NEGATIVE_INFINITY; // row 2 fully masked
                    }
                }
                maskHolder[0] = Fixtures.make(l, Shape.of(4, n), m);
                Shape s3 = Shape.of(2, 4, n);
                return new Tensor[] {Fixtures.make(l, s3, Fixtures.gaussian(rng, 8 * n, 4)), Tensor.zeros(s3)};
            }, (k, a) -> {
                SoftmaxOptions opt = new SoftmaxOptions(1f, 0f, maskHolder[0], false, 0, 0);
                return log ? k.logSoftmax(a[0], opt, a[1]) : k.softmax(a[0], opt, a[1]);
            }, (a, e, n) -> softmaxBound(a[0], SoftmaxOptions.NONE, n, log, false));
        }
    }

    private static Errors.Bound softmaxBound(Tensor x, SoftmaxOptions o, int n, boolean log, boolean capped) {
        float[] v = values(x);
        double maxAbs = 0;
        for (float f : v) {
            maxAbs = Math.max(maxAbs, Math.abs(f * o.scale()) + 4); // +4: the mask's Gaussian entries
        }
        double k = (n + 8 + 4 * maxAbs) * EPS * (capped ? 2 : 1);
        return log ? (i, e) -> k + Math.ulp(e) : (i, e) -> k * e + 1e-37;
    }

    // ---- rope ----

    @Test
    void ropeMatchesOracle() {
        int[] headDims = {2, 4, 8, 16, 32, 34, 64, 128, 130, 256};
        for (Rope.Pairing pairing : Rope.Pairing.values()) {
            for (int hd : headDims) {
                for (int rot : new int[] {hd, Math.max(2, hd / 2 / 2 * 2)}) {
                    Rope rope = Rope.standard(hd, rot, 10000.0, pairing);
                    for (int li = 0; li < IN_LAYOUTS.length; li++) {
                        Layout l = IN_LAYOUTS[li];
                        long seed = seed("rope" + pairing + rot, hd, li);
                        SplittableRandom rng = new SplittableRandom(seed);
                        Shape s = Shape.of(3, 2, hd); // tokens, heads, headDim
                        Tensor x = Fixtures.make(l, s, Fixtures.gaussian(rng, 6 * hd, 2));
                        int[] pos = {0, 7, 4095};
                        float[] expected = ORACLE.rope(x, rope, pos, Tensor.zeros(s)).toFloatArray();
                        for (SimdKernels k : SIMD) {
                            Layout outL = OUT_LAYOUTS[li % OUT_LAYOUTS.length];
                            Tensor out = Fixtures.out(outL, s);
                            ERRORS.check("rope " + pairing + (rot < hd ? " partial" : ""),
                                    ctx(k, l, outL, hd, seed), expected, k.rope(x, rope, pos, out).toFloatArray(),
                                    exact());
                        }
                    }
                }
            }
        }
    }

    @Test
    void ropeInPlaceEqualsOutOfPlace() {
        Rope rope = Rope.standard(64, 32, 500000.0, Rope.Pairing.HALF_SPLIT);
        float[] xv = Fixtures.gaussian(new SplittableRandom(3), 4 * 64, 1);
        int[] pos = {3, 4, 5, 6};
        for (SimdKernels k : SIMD) {
            float[] outOfPlace = k.rope(Tensor.wrap(xv, Shape.of(4, 64)), rope, pos, Tensor.zeros(4, 64)).toFloatArray();
            Tensor x = Tensor.wrap(xv.clone(), Shape.of(4, 64));
            k.rope(x, rope, pos, x);
            ERRORS.check("rope in-place", k.name(), outOfPlace, x.toFloatArray(), exact());
        }
    }

    // ---- array primitives ----

    @Test
    void dotAndAxpyOnArraysMatchOracle() {
        for (int n : SIZES) {
            long seed = seed("dot", n, 0);
            SplittableRandom rng = new SplittableRandom(seed);
            float[] a = Fixtures.gaussian(rng, n + 5, 1), b = Fixtures.gaussian(rng, n + 3, 1);
            double absSum = 0;
            for (int i = 0; i < n; i++) {
                absSum += Math.abs((double) a[5 + i] * b[3 + i]);
            }
            float expected = ORACLE.dot(a, 5, b, 3, n);
            float[] y0 = Fixtures.gaussian(rng, n + 2, 1);
            float[] ye = y0.clone();
            ORACLE.axpy(0.3f, a, 5, ye, 2, n);
            for (SimdKernels k : SIMD) {
                double bound = n * EPS * absSum + Math.ulp(expected);
                ERRORS.check("dot float[]", k.name() + " n=" + n, new float[] {expected},
                        new float[] {k.dot(a, 5, b, 3, n)}, (i, e) -> bound);
                float[] y = y0.clone();
                k.axpy(0.3f, a, 5, y, 2, n);
                ERRORS.check("axpy float[]", k.name() + " n=" + n, ye, y,
                        (i, e) -> 2 * EPS * (Math.abs(e) + (i >= 2 ? Math.abs(0.3f * a[i + 3]) : 0)));
            }
        }
    }

    @Test
    void widthsAreWhatWasAsked() {
        for (int i = 0; i < WIDTHS.length; i++) {
            assertEquals(WIDTHS[i], SIMD[i].bits());
            assertEquals("simd-" + WIDTHS[i], SIMD[i].name());
        }
    }
}
