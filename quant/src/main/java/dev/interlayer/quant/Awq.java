package dev.interlayer.quant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * AWQ (Lin et al., "AWQ: Activation-aware Weight Quantization for LLM Compression and Acceleration", MLSys
 * 2024): input channels with large activations matter most, so their weight columns are scaled up by
 * {@code s_j} before rounding (and the activations divided by {@code s_j}, folded into the op that produces
 * them), which shrinks their relative rounding error. The scale is searched on a grid of exponents:
 * {@code s = max(s_x^α, 1e-4)}, {@code s ← s / sqrt(max(s)·min(s))} for {@code α ∈ {0, 1/grid, …}}, with
 * {@code s_x[j] = mean_t |x_tj|}; each candidate quantizes {@code W·diag(s)} with RTN and scores
 * {@code Ŵ = quant(W·diag(s))·diag(s)⁻¹} by the mean squared error of the linears' outputs,
 * {@code Σ_l tr((W_l − Ŵ_l)·H·(W_l − Ŵ_l)ᵀ) / (2·Σ_l rows_l)} with {@code H = 2XᵀX/N}. Then, per output row and
 * group, the clipping search of AWQ: clamp the scaled weights to {@code ±max|w|·(1 − i/clipGrid)} for
 * {@code i < clipMaxShrink·clipGrid} and keep the clamp with the smallest output error on the scaled inputs
 * ({@link Options#twoSided}: the two ends of an asymmetric group shrunk independently). Optionally one exponent per
 * group of input channels instead of one for all ({@link #quantize(List, int[], int, double[], double[], QuantScheme,
 * Options, Objective, int[])}).
 * A caller that can run the layer may score the grid by another {@link Objective} instead: llm-awq's
 * {@code auto_scale} scores q/k/v on the attention block's output and gate/up on the MLP's ({@link #outputError}).
 */
public final class Awq {
    private Awq() {
    }

    /**
     * Search settings (the reference's: 20 exponents; clip ratios 1.00 … 0.55). The clipping search runs on every
     * linear given; the reference code (llm-awq's {@code auto_clip}) skips query and key projections, which on
     * stories260K (Q4_1, BENCHMARKS §18) made the model worse (KLD 0.0308 against 0.0289 with them clipped).
     *
     * @param grid          number of exponents {@code α = i/grid}, i &lt; grid
     * @param clip          run the clipping search
     * @param clipGrid      clip steps per unit
     * @param clipMaxShrink largest clip fraction
     * @param joint         run the clipping search inside the exponent search: each exponent is scored with its
     *                      clipped weights (the reference clips once, after choosing the exponent on unclipped ones)
     * @param twoSided      on asymmetric grids, clip the negative and the positive end of each group independently:
     *                      clamp to {@code [−max(−w)·(1 − i/clipGrid), max(w)·(1 − k/clipGrid)]} for every pair
     *                      {@code i, k < clipMaxShrink·clipGrid} (the square of the reference's candidates), instead of
     *                      the reference's {@code ±max|w|·(1 − i/clipGrid)}, which can only shave the larger end of a
     *                      lopsided group; symmetric grids keep the reference's search
     */
    public record Options(int grid, boolean clip, int clipGrid, double clipMaxShrink, boolean joint, boolean twoSided) {
        /** The reference defaults. */
        public static final Options DEFAULT = new Options(20, true, 20, 0.5);

        /** Settings with the reference's order: exponent first, then the clipping search. */
        public Options(int grid, boolean clip, int clipGrid, double clipMaxShrink) {
            this(grid, clip, clipGrid, clipMaxShrink, false, false);
        }

        public Options {
            if (grid < 1 || clipGrid < 1 || !(clipMaxShrink >= 0 && clipMaxShrink < 1)) {
                throw new IllegalArgumentException("Awq.Options: need grid, clipGrid >= 1 and 0 <= clipMaxShrink < 1; got "
                        + grid + ", " + clipGrid + ", " + clipMaxShrink);
            }
        }

        /** With the clipping search on or off. */
        public Options withClip(boolean on) {
            return new Options(grid, on, clipGrid, clipMaxShrink, joint, twoSided);
        }

        /** With the clipping search inside the exponent search on or off. */
        public Options withJoint(boolean on) {
            return new Options(grid, clip, clipGrid, clipMaxShrink, on, twoSided);
        }

        /** With the two-sided clipping search on or off. */
        public Options withTwoSided(boolean on) {
            return new Options(grid, clip, clipGrid, clipMaxShrink, joint, on);
        }
    }

    /**
     * The result for a group of linears that read the same input.
     *
     * @param inputScales [dIn] {@code s}: the layers below hold {@code W·diag(s)}; the producer of their input
     *                    must divide its output channel {@code j} by {@code s[j]} (e.g. the norm weight)
     * @param alpha       the chosen exponent (with exponents per group: the shared one they started from)
     * @param loss        the output error of the chosen scale (before clipping, unless {@link Options#joint})
     * @param weights     the quantized {@code W_l·diag(s)}, one per input linear, in order
     */
    public record Result(double[] inputScales, double alpha, double loss, List<QuantizedLinear> weights) {
    }

    /**
     * The score of one candidate scale {@code s} of the grid: the quantized {@code W_l·diag(s)} of every linear, in
     * order; the linears then compute with {@code Ŵ_l = dequant(q_l)·diag(s)⁻¹} ({@link #unscaled}) on the unscaled
     * input. Smaller is better. The default is the linears' own output error; llm-awq scores the q/k/v and gate/up
     * scales on the output of the whole attention block or MLP instead (a caller that can run the layer supplies it).
     */
    @FunctionalInterface
    public interface Objective {
        double loss(double[] s, List<QuantizedLinear> scaled);
    }

    /**
     * Searches the input scale for linears {@code ws[l] [rows[l], dIn]} that share one input, and quantizes them.
     * {@code meanAbs [dIn]} is {@code mean_t |x_tj|} and {@code h [dIn, dIn]} the Hessian {@code 2XᵀX/N} of
     * that input. Nothing passed in is modified.
     *
     * @throws IllegalArgumentException on mismatched shapes
     */
    public static Result quantize(List<float[]> ws, int[] rows, int dIn, double[] meanAbs, double[] h,
                                  QuantScheme scheme, Options opt) {
        return quantize(ws, rows, dIn, meanAbs, h, scheme, opt, null);
    }

    /**
     * As {@link #quantize(List, int[], int, double[], double[], QuantScheme, Options)}, with the grid's candidates
     * scored by {@code objective} (null: the linears' output error on H). The clipping search stays per linear on H.
     */
    public static Result quantize(List<float[]> ws, int[] rows, int dIn, double[] meanAbs, double[] h,
                                  QuantScheme scheme, Options opt, Objective objective) {
        return quantize(ws, rows, dIn, meanAbs, h, scheme, opt, objective, null);
    }

    /**
     * As {@link #quantize(List, int[], int, double[], double[], QuantScheme, Options, Objective)}, with one exponent
     * per group of input channels instead of one for all: {@code s_j = mean|x_j|^α_{g(j)}} (then normalised as
     * above), {@code g = exponentGroups [dIn]} (null or a single group: one exponent). The shared exponent is
     * searched first; then each group in turn tries every exponent of the grid with the others fixed (coordinate
     * descent, one sweep), keeping one only if it lowers the objective, so the result is never worse on the
     * objective than the shared exponent's. Channels that must share a scale (tied by a fold) must share a group.
     *
     * @throws IllegalArgumentException on mismatched shapes or {@code exponentGroups} of the wrong length
     */
    public static Result quantize(List<float[]> ws, int[] rows, int dIn, double[] meanAbs, double[] h,
                                  QuantScheme scheme, Options opt, Objective objective, int[] exponentGroups) {
        if (exponentGroups != null && exponentGroups.length != dIn) {
            throw new IllegalArgumentException("Awq.quantize: need one exponent group per input channel, " + dIn
                    + "; got " + exponentGroups.length);
        }
        if (ws.isEmpty() || ws.size() != rows.length || meanAbs.length != dIn) {
            throw new IllegalArgumentException("Awq.quantize: need one row count per weight and meanAbs[" + dIn
                    + "]; got " + ws.size() + " weights, " + rows.length + " row counts, meanAbs[" + meanAbs.length + "]");
        }
        Shapes.checkSquare("Awq.quantize", h.length, dIn);
        for (int l = 0; l < ws.size(); l++) {
            Shapes.checkMatrix("Awq.quantize", ws.get(l).length, rows[l], dIn);
        }
        Objective score = objective != null ? objective : outputError(ws, rows, h);
        Best best = new Best();
        double bestAlpha = 0;
        boolean joint = opt.joint() && opt.clip();
        for (int i = 0; i < opt.grid(); i++) {
            double alpha = (double) i / opt.grid();
            double[] s = scales(meanAbs, alpha);
            List<QuantizedLinear> qs = candidate(ws, rows, dIn, s, h, scheme, opt, joint);
            if (best.offer(score.loss(s, qs), s, qs)) {
                bestAlpha = alpha;
            }
        }
        int groups = exponentGroups == null ? 1 : Arrays.stream(exponentGroups).max().orElse(0) + 1;
        if (groups > 1) {
            double[] alphas = new double[dIn];
            Arrays.fill(alphas, bestAlpha);
            for (int g = 0; g < groups; g++) {
                double keep = alphas[indexOf(exponentGroups, g)];
                for (int i = 0; i < opt.grid(); i++) {
                    double alpha = (double) i / opt.grid();
                    if (alpha == keep) {
                        continue;
                    }
                    for (int j = 0; j < dIn; j++) {
                        if (exponentGroups[j] == g) {
                            alphas[j] = alpha;
                        }
                    }
                    double[] s = scales(meanAbs, alphas);
                    List<QuantizedLinear> qs = candidate(ws, rows, dIn, s, h, scheme, opt, joint);
                    if (best.offer(score.loss(s, qs), s, qs)) {
                        keep = alpha;
                    }
                }
                for (int j = 0; j < dIn; j++) {
                    if (exponentGroups[j] == g) {
                        alphas[j] = keep;
                    }
                }
            }
        }
        double[] bestS = best.s;
        if (joint) {
            return new Result(bestS, bestAlpha, best.loss, best.qs);
        }
        double[] hs = scaledHessian(h, bestS);             // Hessian of the scaled input x/s
        List<QuantizedLinear> out = new ArrayList<>();
        for (int l = 0; l < ws.size(); l++) {
            float[] scaled = scaleColumns(ws.get(l), rows[l], dIn, bestS);
            if (opt.clip()) {
                clip(scaled, rows[l], dIn, hs, scheme, opt);
            }
            out.add(Rtn.quantize(scaled, rows[l], dIn, scheme));
        }
        return new Result(bestS, bestAlpha, best.loss, out);
    }

    /** The scale candidate with the lowest loss so far, with its quantized linears. */
    private static final class Best {
        double loss = Double.POSITIVE_INFINITY;
        double[] s;
        List<QuantizedLinear> qs;

        /** Keeps {@code (s, qs)} if {@code loss} is below the best so far; returns whether it did. */
        boolean offer(double loss, double[] s, List<QuantizedLinear> qs) {
            if (!(loss < this.loss)) {
                return false;
            }
            this.loss = loss;
            this.s = s;
            this.qs = qs;
            return true;
        }
    }

    /**
     * AWQ's statistic for the attention output projection's input when its scales are folded into the value
     * projection under grouped-query attention. The input channel {@code (h, d)} (query head h, of {@code heads}
     * heads of {@code headDim}) is a convex mix over positions of the value row {@code (k, d)},
     * {@code k = h / (heads/kvHeads)}; dividing that row by {@code t} divides every channel {@code (h, d)} of the
     * query heads of kv head k by {@code t}, so a foldable scale must be equal on those channels (with
     * {@code heads == kvHeads} nothing is tied). This returns {@code meanAbs} with each such class of channels
     * replaced by its mean, so {@link #quantize}'s scales {@code s = (mean |x|)^α} are equal within a class. AutoAWQ
     * folds this site only without GQA (v's output width equal to o's input width); this is the tie that makes
     * the fold exact with it.
     *
     * @throws IllegalArgumentException if {@code meanAbs.length != heads·headDim} or kvHeads does not divide heads
     */
    public static double[] tiedMeanAbs(double[] meanAbs, int heads, int kvHeads, int headDim) {
        checkHeads("Awq.tiedMeanAbs", meanAbs.length, heads, kvHeads, headDim);
        int group = heads / kvHeads;
        double[] out = new double[meanAbs.length];
        for (int k = 0; k < kvHeads; k++) {
            for (int d = 0; d < headDim; d++) {
                double sum = 0;
                for (int h = k * group; h < (k + 1) * group; h++) {
                    sum += meanAbs[h * headDim + d];
                }
                for (int h = k * group; h < (k + 1) * group; h++) {
                    out[h * headDim + d] = sum / group;
                }
            }
        }
        return out;
    }

    /**
     * The value projection's row divisors for o's input scales {@code s [heads·headDim]} (tied as by
     * {@link #tiedMeanAbs}): row {@code (k, d)} of v is divided by the scale of the channels {@code (h, d)} of kv
     * head k, so that o holding {@code W_o·diag(s)} computes the same function. Returns {@code [kvHeads·headDim]}.
     *
     * @throws IllegalArgumentException if the shapes disagree or {@code s} differs within a tied class
     */
    public static double[] kvRowScales(double[] s, int heads, int kvHeads, int headDim) {
        checkHeads("Awq.kvRowScales", s.length, heads, kvHeads, headDim);
        int group = heads / kvHeads;
        double[] f = new double[kvHeads * headDim];
        for (int k = 0; k < kvHeads; k++) {
            for (int d = 0; d < headDim; d++) {
                double v = s[k * group * headDim + d];
                for (int h = k * group + 1; h < (k + 1) * group; h++) {
                    if (s[h * headDim + d] != v) {
                        throw new IllegalArgumentException("Awq.kvRowScales: scales of query heads " + (k * group)
                                + " and " + h + " (kv head " + k + ", dim " + d + ") differ: " + v + " vs "
                                + s[h * headDim + d] + "; they cannot be folded into one value row");
                    }
                }
                f[k * headDim + d] = v;
            }
        }
        return f;
    }

    private static void checkHeads(String op, int n, int heads, int kvHeads, int headDim) {
        if (heads < 1 || kvHeads < 1 || heads % kvHeads != 0 || (long) heads * headDim != n) {
            throw new IllegalArgumentException(op + ": need kvHeads dividing heads and " + heads + "·" + headDim
                    + " channels; got heads " + heads + ", kvHeads " + kvHeads + ", " + n + " channels");
        }
    }

    // The rounded W_l·diag(s) of every linear (clipped first on the scaled Hessian if joint).
    private static List<QuantizedLinear> candidate(List<float[]> ws, int[] rows, int dIn, double[] s, double[] h,
                                                   QuantScheme scheme, Options opt, boolean joint) {
        List<QuantizedLinear> qs = new ArrayList<>();
        double[] hs = joint ? scaledHessian(h, s) : null;
        for (int l = 0; l < ws.size(); l++) {
            float[] scaled = scaleColumns(ws.get(l), rows[l], dIn, s);
            if (joint) {
                clip(scaled, rows[l], dIn, hs, scheme, opt);
            }
            qs.add(Rtn.quantize(scaled, rows[l], dIn, scheme));
        }
        return qs;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        throw new IllegalArgumentException("Awq.quantize: exponent group " + v + " has no channel (groups must be"
                + " numbered 0 … n−1)");
    }

    /** {@code s = max(meanAbs^α, 1e-4)}, normalised by {@code sqrt(max(s)·min(s))}. */
    static double[] scales(double[] meanAbs, double alpha) {
        double[] a = new double[meanAbs.length];
        Arrays.fill(a, alpha);
        return scales(meanAbs, a);
    }

    /** {@code s_j = max(meanAbs_j^α_j, 1e-4)}, normalised by {@code sqrt(max(s)·min(s))}. */
    static double[] scales(double[] meanAbs, double[] alpha) {
        double[] s = new double[meanAbs.length];
        double mx = 0, mn = Double.POSITIVE_INFINITY;
        for (int j = 0; j < s.length; j++) {
            s[j] = Math.max(Math.pow(meanAbs[j], alpha[j]), 1e-4);
            mx = Math.max(mx, s[j]);
            mn = Math.min(mn, s[j]);
        }
        double norm = Math.sqrt(mx * mn);
        for (int j = 0; j < s.length; j++) {
            s[j] /= norm;
        }
        return s;
    }

    /** The Hessian of the scaled input {@code x/s}: {@code H[a][b] / (s[a]·s[b])}, for {@code h [d, d]}, {@code s [d]}. */
    public static double[] scaledHessian(double[] h, double[] s) {
        int d = s.length;
        Shapes.checkSquare("Awq.scaledHessian", h.length, d);
        double[] o = new double[h.length];
        for (int a = 0; a < d; a++) {
            for (int b = 0; b < d; b++) {
                o[a * d + b] = h[a * d + b] / (s[a] * s[b]);
            }
        }
        return o;
    }

    /** float32({@code W·diag(s)}) of {@code w [rows, cols]}: the weights AWQ rounds. */
    public static float[] scaleColumns(float[] w, int rows, int cols, double[] s) {
        float[] out = new float[w.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = (float) (w[r * cols + c] * s[c]);
            }
        }
        return out;
    }

    /** float32({@code dequant(q)·diag(s)⁻¹}): the weights a candidate of the grid computes with on the unscaled input. */
    public static float[] unscaled(QuantizedLinear q, double[] s) {
        if (s.length != q.cols()) {
            throw new IllegalArgumentException("Awq.unscaled: need one scale per column, " + q.cols() + "; got " + s.length);
        }
        float[] w = q.dequantize();
        int cols = q.cols();
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (w[i] / s[i % cols]);
        }
        return w;
    }

    /**
     * The block-output objective of llm-awq's scale search, {@code Σ_t ‖W·(a_t − b_t)‖² / (tokens·rows)}: the mean
     * squared difference of the outputs {@code W·a} and {@code W·b} of a float linear {@code w [rows, d]} (o after the
     * attention heads, down after the MLP's hidden) for rows {@code a, b [tokens, d]}.
     *
     * @throws IllegalArgumentException on mismatched shapes
     */
    public static double outputError(float[] a, float[] b, float[] w, int rows, int d) {
        if (a.length != b.length || a.length % d != 0 || w.length != (long) rows * d) {
            throw new IllegalArgumentException("Awq.outputError: need a, b [tokens, " + d + "] and w [" + rows + ", " + d
                    + "]; got " + a.length + ", " + b.length + " and " + w.length + " values");
        }
        int tokens = a.length / d;
        double total = 0;
        double[] diff = new double[d];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < d; j++) {
                diff[j] = (double) a[t * d + j] - b[t * d + j];
            }
            for (int r = 0; r < rows; r++) {
                double y = 0;
                for (int j = 0; j < d; j++) {
                    y += w[r * d + j] * diff[j];
                }
                total += y * y;
            }
        }
        return total / ((double) tokens * rows);
    }

    /**
     * AWQ's per-linear objective: {@code Σ_l tr((T_l − Ŵ_l)·H·(T_l − Ŵ_l)ᵀ) / (2·Σ_l rows_l)}, the mean squared error
     * of the linears' outputs on inputs with Hessian {@code h = 2XᵀX/N} against targets {@code ts[l] [rows[l], d]}
     * ({@link #quantize}'s default takes the weights being quantized; error propagation's full-strength targets
     * make it the error against the unquantized model's outputs).
     */
    public static Objective outputError(List<float[]> ts, int[] rows, double[] h) {
        int total = 0;
        for (int r : rows) {
            total += r;
        }
        double norm = 2.0 * total;
        return (s, scaled) -> {
            double loss = 0;
            for (int l = 0; l < ts.size(); l++) {
                loss += unscaledError(ts.get(l), scaled.get(l), s, h);
            }
            return loss / norm;
        };
    }

    // tr(ΔW H ΔWᵀ) with ΔW = W − dequant(q)·diag(s)⁻¹ (also AwqRouted's).
    static double unscaledError(float[] w, QuantizedLinear q, double[] s, double[] h) {
        int cols = q.cols();
        double total = 0;
        double[] d = new double[cols];
        for (int r = 0; r < q.rows(); r++) {
            for (int c = 0; c < cols; c++) {
                d[c] = w[r * cols + c] - q.value(r, c) / s[c];
            }
            for (int i = 0; i < cols; i++) {
                total += d[i] * DoubleMath.dot(h, i * cols, d, 0, cols);
            }
        }
        return total;
    }

    // Clamps each (row, group) of w to the ±max|w|·(1 − i/clipGrid) (two-sided: [−max(−w)·(1 − i/clipGrid),
    // max(w)·(1 − k/clipGrid)], candidate i·steps + k) with the smallest Δᵀ·H_gg·Δ; ties keep the earlier candidate.
    private static void clip(float[] w, int rows, int cols, double[] h, QuantScheme scheme, Options opt) {
        int g = scheme.groupFor(cols), steps = (int) Math.round(opt.clipMaxShrink() * opt.clipGrid());
        int qmin = scheme.kind().minCode(), maxq = scheme.maxq();
        double[] v = new double[g], cl = new double[g], d = new double[g], sz = new double[2];
        // a symmetric grid's range is set by its larger end: shaving the other end alone only moves weights
        boolean two = opt.twoSided() && !scheme.kind().symmetric();
        for (int r = 0; r < rows; r++) {
            for (int c0 = 0; c0 < cols; c0 += g) {
                int len = Math.min(cols, c0 + g) - c0;
                double lmax = 0, hmax = 0;                 // largest magnitude below and above zero
                for (int j = 0; j < len; j++) {
                    v[j] = w[r * cols + c0 + j];
                    lmax = Math.max(lmax, -v[j]);
                    hmax = Math.max(hmax, v[j]);
                }
                double amax = Math.max(lmax, hmax);
                double best = Double.POSITIVE_INFINITY, bestMax = amax, bestMin = amax;
                for (int i = 0; i < (two ? steps * steps : steps); i++) {
                    double m = two ? (float) (hmax * (1 - (double) (i % steps) / opt.clipGrid()))
                            : (float) (amax * (1 - (double) i / opt.clipGrid()));   // float: the clamped weights are stored as float
                    double mn = two ? (float) (lmax * (1 - (double) (i / steps) / opt.clipGrid())) : m;
                    for (int j = 0; j < len; j++) {
                        cl[j] = Math.max(-mn, Math.min(m, v[j]));
                    }
                    Grid.fit(scheme, cl, 0, len, 1.0, sz);
                    for (int j = 0; j < len; j++) {
                        d[j] = Grid.roundTrip(scheme.kind(), cl[j], sz[0], sz[1], qmin, maxq) - v[j];
                    }
                    double err = 0;
                    for (int a = 0; a < len; a++) {
                        err += d[a] * DoubleMath.dot(h, (c0 + a) * cols + c0, d, 0, len);
                    }
                    if (err < best) {
                        best = err;
                        bestMax = m;
                        bestMin = mn;
                    }
                }
                for (int j = 0; j < len; j++) {
                    w[r * cols + c0 + j] = (float) Math.max(-bestMin, Math.min(bestMax, v[j]));
                }
            }
        }
    }
}
