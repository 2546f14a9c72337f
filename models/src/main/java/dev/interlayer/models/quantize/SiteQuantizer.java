package dev.interlayer.models.quantize;

import dev.interlayer.quant.Aespa;
import dev.interlayer.quant.Awq;
import dev.interlayer.quant.Boa;
import dev.interlayer.quant.Dense;
import dev.interlayer.quant.Gptq;
import dev.interlayer.quant.GptqOptions;
import dev.interlayer.quant.MixedPrecision;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.quant.Rtn;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Quantizes the linears that read one input (q, k, v; gate, up; output; down) with one method, given that
 * input's calibration statistics. Attention projections are split into heads for BoA and aespa, which take a
 * row factor per head ({@code null}: the identity, i.e. the layer-wise objective); other linears are one
 * "head" per row (BoA) or one head of all rows (aespa).
 */
public final class SiteQuantizer {
    /**
     * The calibrated (and baseline) quantizers of {@code ./interlayer quantize --method}. {@code AWQ_GPTQ}
     * ({@code awq-gptq}) is AWQ's scale search followed by GPTQ's rounding of the scaled weights on the scaled
     * input's Hessian {@code H/(s·sᵀ)}, instead of AWQ's clipping and round-to-nearest: the combination the AWQ
     * paper reports as orthogonal and combinable (Lin et al., MLSys 2024); opt-in, it is not AWQ.
     */
    public enum Method {
        RTN, GPTQ, AWQ, BOA, AESPA, AWQ_GPTQ;

        /** The method named {@code s} (case-insensitive, {@code awq-gptq} for AWQ_GPTQ). @throws IllegalArgumentException listing the methods */
        public static Method parse(String s) {
            for (Method m : values()) {
                if (m.cliName().equalsIgnoreCase(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown --method '" + s + "'; supported: rtn, gptq, awq, boa, aespa,"
                    + " awq-gptq, mixed");
        }

        /** The name on the command line: {@code rtn} … {@code awq-gptq}. */
        public String cliName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** Whether the method searches AWQ's input scales (AWQ, AWQ then GPTQ). */
        public boolean awq() {
            return this == AWQ || this == AWQ_GPTQ;
        }
    }

    /**
     * Settings.
     *
     * @param method     the quantizer
     * @param scheme     grid, bits, group
     * @param gptq       GPTQ's settings (also the damping of BoA and the initialisation of aespa)
     * @param aespa      aespa's AdaRound settings
     * @param awqScales  search AWQ's input scales at this site (false: scale 1, AWQ's clip search only)
     * @param awqObjective what AWQ's scale search of the norm-folded sites (q/k/v, gate/up) minimises
     * @param awqJointClip run AWQ's clipping search inside its scale search ({@link Awq.Options#joint})
     * @param awqGroup   AWQ: input channels per exponent group ({@link Awq#quantize(List, int[], int, double[],
     *                   double[], QuantScheme, Awq.Options, Awq.Objective, int[])}); 0: one exponent per site
     * @param rtnWeighted RTN: weigh each group's clipping search by the input's {@code diag H} (an importance matrix,
     *                    llama.cpp's {@code --imatrix} weighting) instead of weighing every weight alike
     * @param awqTwoSidedClip AWQ: clip each group's two ends independently ({@link Awq.Options#twoSided})
     */
    public record Options(Method method, QuantScheme scheme, GptqOptions gptq, Aespa.Options aespa, boolean awqScales,
                          AwqObjective awqObjective, boolean awqJointClip, int awqGroup, boolean rtnWeighted,
                          boolean awqTwoSidedClip) {
        public Options {
            if (awqGroup < 0) {
                throw new IllegalArgumentException("SiteQuantizer.Options: awqGroup >= 0 (0: one exponent per site),"
                        + " got " + awqGroup);
            }
        }

        /** AWQ with its defaults: the per-linear objective, clipping after the scale search. */
        public Options(Method method, QuantScheme scheme, GptqOptions gptq, Aespa.Options aespa, boolean awqScales) {
            this(method, scheme, gptq, aespa, awqScales, AwqObjective.LINEAR, false);
        }

        /** One AWQ exponent per site and the reference's clipping search, unweighted RTN. */
        public Options(Method method, QuantScheme scheme, GptqOptions gptq, Aespa.Options aespa, boolean awqScales,
                       AwqObjective awqObjective, boolean awqJointClip) {
            this(method, scheme, gptq, aespa, awqScales, awqObjective, awqJointClip, 0, false, false);
        }

        /** The same options on another grid. */
        public Options withScheme(QuantScheme s) {
            return new Options(method, s, gptq, aespa, awqScales, awqObjective, awqJointClip, awqGroup, rtnWeighted,
                    awqTwoSidedClip);
        }

        /** The same options with the scale search at this site on or off. */
        public Options withAwqScales(boolean on) {
            return new Options(method, scheme, gptq, aespa, on, awqObjective, awqJointClip, awqGroup, rtnWeighted,
                    awqTwoSidedClip);
        }
    }

    /**
     * The objective of AWQ's scale search at the sites whose scales fold into a norm. LINEAR (default): each linear's
     * own output error on the site's Hessian. LINEAR_FLOAT: each linear's output error against the unquantized model's
     * output of that linear (error propagation's full-strength targets on the same Hessian). BLOCK: llm-awq's, the output of the whole attention block (q/k/v) or
     * MLP (gate/up) against the same layer with the site's unquantized weights on the same inputs
     * ({@code AwqBlockObjective}). BLOCK_FLOAT: the same block output against the unquantized model's layer on the
     * unquantized model's inputs (error propagation's target). Measured on stories260K (Q4_1 g32, BENCHMARKS
     * §18), KLD to the float model relative to LINEAR: LINEAR_FLOAT +4 %, BLOCK +6 %, BLOCK_FLOAT −0.6 % at ~400× the
     * quantizing time (a layer forward per candidate), so LINEAR stays the default.
     */
    public enum AwqObjective {
        LINEAR, LINEAR_FLOAT, BLOCK, BLOCK_FLOAT;

        /** {@code linear}, {@code linear-float}, {@code block} or {@code block-float}. @throws IllegalArgumentException listing them */
        public static AwqObjective parse(String s) {
            for (AwqObjective o : values()) {
                if (o.name().toLowerCase(Locale.ROOT).replace('_', '-').equalsIgnoreCase(s)) {
                    return o;
                }
            }
            throw new IllegalArgumentException("unknown --awq-objective '" + s + "'; supported: linear, linear-float, block,"
                    + " block-float");
        }
    }

    /** One linear of a site: its name, weight {@code [rows, cols]} and, for attention projections, its heads. */
    public record Linear(String name, float[] w, int rows, int cols, int heads) {
    }

    /**
     * The result: the quantized linears in order, and AWQ's input scales (null for other methods): the site's
     * input must be divided by them, the linears hold {@code W·diag(s)}.
     */
    public record Result(List<QuantizedLinear> weights, double[] inputScales) {
    }

    private SiteQuantizer() {
    }

    /**
     * Quantizes {@code linears}, all reading inputs of width {@code dIn} with Hessian {@code h [dIn, dIn]} and mean
     * absolute activations {@code meanAbs [dIn]}. {@code rowFactors.get(i)}: the per-head row factors of linear i,
     * or null.
     */
    public static Result quantize(List<Linear> linears, int dIn, double[] h, double[] meanAbs,
                                  List<double[][]> rowFactors, Options opt) {
        return quantize(linears, dIn, h, meanAbs, rowFactors, opt, null);
    }

    /**
     * As {@link #quantize(List, int, double[], double[], List, Options)}, with AWQ's grid of scales scored by
     * {@code objective} (null: the linears' own output error; ignored by other methods).
     */
    public static Result quantize(List<Linear> linears, int dIn, double[] h, double[] meanAbs,
                                  List<double[][]> rowFactors, Options opt, Awq.Objective objective) {
        return quantize(linears, dIn, h, meanAbs, rowFactors, opt, objective, null);
    }

    /**
     * As {@link #quantize(List, int, double[], double[], List, Options, Awq.Objective)}, with AWQ's channels tied
     * into exponent groups as {@code tie[j]} says (the channel whose group channel j must share, because a fold
     * ties their scales; null: none tied): with {@link Options#awqGroup} {@code G > 0}, channel j's exponent is
     * that of the group {@code tie[j] / G}.
     */
    public static Result quantize(List<Linear> linears, int dIn, double[] h, double[] meanAbs,
                                  List<double[][]> rowFactors, Options opt, Awq.Objective objective, int[] tie) {
        QuantScheme s = opt.scheme();
        List<QuantizedLinear> out = new ArrayList<>();
        if (opt.method().awq()) {
            List<float[]> ws = new ArrayList<>();
            int[] rows = new int[linears.size()];
            for (int i = 0; i < rows.length; i++) {
                ws.add(linears.get(i).w());
                rows[i] = linears.get(i).rows();
            }
            Awq.Options ao = (opt.awqScales() ? Awq.Options.DEFAULT : new Awq.Options(1, true, 20, 0.5))
                    .withJoint(opt.awqJointClip()).withTwoSided(opt.awqTwoSidedClip());
            boolean gptq = opt.method() == Method.AWQ_GPTQ;
            Awq.Result r = Awq.quantize(ws, rows, dIn, meanAbs, h, s, gptq ? ao.withClip(false) : ao,
                    opt.awqScales() ? objective : null,
                    opt.awqScales() && opt.awqGroup() > 0 ? exponentGroups(dIn, opt.awqGroup(), tie) : null);
            if (!gptq) {
                return new Result(r.weights(), r.inputScales());
            }
            double[] hs = Awq.scaledHessian(h, r.inputScales());
            for (int i = 0; i < rows.length; i++) {
                float[] scaled = Awq.scaleColumns(ws.get(i), rows[i], dIn, r.inputScales());
                out.add(Gptq.quantize(scaled, rows[i], dIn, hs, s, opt.gptq()).weights());
            }
            return new Result(out, r.inputScales());
        }
        for (int i = 0; i < linears.size(); i++) {
            Linear l = linears.get(i);
            double[][] g = rowFactors == null ? null : rowFactors.get(i);
            out.add(switch (opt.method()) {
                case RTN -> Rtn.quantize(l.w(), l.rows(), l.cols(), s, opt.rtnWeighted() ? importance(h, dIn) : null);
                case GPTQ -> Gptq.quantize(l.w(), l.rows(), l.cols(), h, s, opt.gptq()).weights();
                case BOA -> g == null
                        ? Boa.quantize(l.w(), l.rows(), 1, l.cols(), h, identities(l.rows()), s, opt.gptq().percDamp())
                        : Boa.quantize(l.w(), l.heads(), l.rows() / l.heads(), l.cols(), h, g, s, opt.gptq().percDamp());
                case AESPA -> g == null
                        ? Aespa.quantize(l.w(), 1, l.rows(), l.cols(), h, null, s, opt.aespa())
                        : Aespa.quantize(l.w(), l.heads(), l.rows() / l.heads(), l.cols(), h, g, s, opt.aespa());
                default -> throw new IllegalStateException(opt.method().toString());
            });
        }
        return new Result(out, null);
    }

    /**
     * The relative output error {@code tr(ΔW·H·ΔWᵀ) / tr(W·H·Wᵀ)} of a quantized linear ({@code w} the weights it
     * was quantized from, H the Hessian of its input): the share of the output's energy on the calibration
     * inputs lost to rounding. {@code h == null} stands for H = I, the relative weight error
     * {@code ‖ΔW‖² / ‖W‖²} (RTN without calibration), without building an identity.
     */
    public static double relativeError(float[] w, QuantizedLinear q, double[] h) {
        int rows = q.rows(), cols = q.cols();
        if (h == null) {
            double ref = 0, err = 0;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    double x = w[r * cols + c], e = x - q.value(r, c);
                    ref += x * x;
                    err += e * e;
                }
            }
            return ref == 0 ? 0 : err / ref;
        }
        // row blocks of W are widened on demand: no double copy of the whole weight
        double ref = Dense.sumOfQuadraticForms((r0, m, dst) -> {
            for (int i = 0; i < m * cols; i++) {
                dst[i] = w[r0 * cols + i];
            }
        }, rows, cols, h);
        return ref == 0 ? 0 : MixedPrecision.hessianError(w, q, h) / ref;
    }

    /**
     * Exponent groups of {@code dIn} channels, {@code size} per group, numbered 0 … n−1 in channel order; channel j
     * joins the group of channel {@code tie[j]} (null: j itself).
     */
    static int[] exponentGroups(int dIn, int size, int[] tie) {
        int[] g = new int[dIn];
        java.util.Map<Integer, Integer> ids = new java.util.HashMap<>();
        for (int j = 0; j < dIn; j++) {
            g[j] = ids.computeIfAbsent((tie == null ? j : tie[j]) / size, k -> ids.size());
        }
        return g;
    }

    // diag H / 2 = E[x²] per input channel: the importance RTN's weighted clipping search reads
    private static double[] importance(double[] h, int dIn) {
        if (h == null) {
            throw new IllegalArgumentException("RTN weighted by importance needs the input's statistics (an importance"
                    + " matrix or calibration)");
        }
        double[] a = new double[dIn];
        for (int j = 0; j < dIn; j++) {
            a[j] = h[j * dIn + j] / 2;
        }
        return a;
    }

    private static double[][] identities(int n) {
        double[][] id = new double[n][];
        for (int i = 0; i < n; i++) {
            id[i] = new double[] {1};
        }
        return id;
    }

    /** A one-line description of the options, for the summary. */
    public static String describe(Options o) {
        String extra = switch (o.method()) {
            case GPTQ, BOA, AWQ_GPTQ -> String.format(Locale.ROOT, ", damp %.3g%s", o.gptq().percDamp(),
                    o.method() != Method.BOA && o.gptq().actOrder() ? ", act-order (static groups)" : "");
            case AESPA -> ", " + o.aespa().iterations() + " AdaRound steps from GPTQ";
            default -> "";
        };
        if (o.method().awq()) {
            extra += (o.awqObjective() == AwqObjective.LINEAR ? "" : ", scales scored on the "
                    + switch (o.awqObjective()) {
                case LINEAR_FLOAT -> "float model's linear outputs";
                case BLOCK -> "block output";
                default -> "float model's block output";
            })
                    + (o.awqJointClip() ? ", clip search inside the scale search" : "")
                    + (o.awqTwoSidedClip() && o.method() == Method.AWQ ? ", two-sided clipping" : "");
        }
        if (o.method().awq() && o.awqGroup() > 0) {
            extra += ", one exponent per " + o.awqGroup() + " input channels";
        }
        return o.method().cliName() + extra + (o.scheme().clip().steps() > 1 ? ", MSE grid search"
                + (o.scheme().clip().twoSided() && !o.scheme().kind().symmetric() ? " (two-sided)" : "") : ", min/max grids")
                + (o.method() == Method.RTN && o.rtnWeighted() ? " weighted by importance" : "");
    }
}
