package dev.interlayer.models.quantize;

import dev.interlayer.models.family.Families;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.lm.HiddenStates;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.nn.LinearTap;
import dev.interlayer.quant.Awq;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.CalibrationStats;
import dev.interlayer.quant.CalibrationTap;
import dev.interlayer.quant.ErrorPropagation;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Quantizes the block linears of a GGUF decoder in execution order with the GPTQ protocol (Frantar et al.,
 * "GPTQ", ICLR 2023, with its "true sequential" option): for each layer and each input site in turn (attention
 * input → q, k, v; attention output; FFN input → gate, up; FFN hidden → down) the calibration tokens are run
 * through the layer whose earlier linears are already replaced by their dequantized values, and that site's
 * statistics (H = 2XᵀX/N, mean |x|) are taken from this pass, so every linear is fitted to the inputs it will
 * see in the quantized model. The layer's input is the calibration stream's hidden states [tokens, d], computed
 * once by the quantized layers before it and updated in place after each layer (GPTQ's block-at-a-time
 * protocol), so only the current layer's float32 weights and dequantized copies are on the heap, never the
 * whole model's. Calibrated methods other than RTN also fit each linear to the unquantized model's output on the
 * same tokens ({@link ErrorPropagation}, Arai and Ichikawa 2025): the float model's hidden states are carried
 * along as a second [tokens, d] array, and each site's float inputs [tokens, d_in] are held while its Hessian is
 * taken. Cost: per site one pass of the calibration set through the quantized layer (and one through the float
 * layer with propagation), plus one (two) per layer to advance the hidden states.
 *
 * <p>Linears whose input width is not a multiple of the block size are left as they are (reported). AWQ folds its
 * input scales into the op that produces the site's input ({@link AwqFolding}: the pre-norm gains for q, k, v and
 * gate, up; v's rows for o, tied per kv head under GQA; up's rows for down in a gated MLP); a site with nothing to
 * fold into gets AWQ's clipping search only. AWQ's scale search at the norm-folded sites scores each candidate on
 * the site's linears (default) or, opt-in ({@link SiteQuantizer.AwqObjective}), on the output of the whole
 * attention block or MLP run by the engine ({@link AwqBlockObjective}), as llm-awq does. BoA and aespa weigh the rows of each query and key
 * head with {@link HeadFactors} from the same pass; value, output and FFN linears use the identity (per-row GPTQ
 * with static groups for BoA, the layer-wise objective for aespa).
 *
 * <p>Mixture-of-experts layers: the routed experts' 3-D tensors are quantized expert by expert, each on the Hessian of
 * the tokens routed to it ({@link ExpertQuantizer}: gate and up share it, an expert without calibration tokens is
 * rounded to nearest), after the site's other linears; with AWQ, one input scale of the FFN input is searched for the
 * router and all experts together and folded first ({@link ExpertAwqScale}); a shared expert ({@code ffn_gate_shexp},
 * {@code ffn_up_shexp}, {@code ffn_down_shexp}) is a site of its own with the Hessian of its input (every token), as
 * the dense linears but without a scale of its own (its input norm also feeds the router; AWQ scales it with the
 * experts). GPT-2's fused {@code attn_qkv} is one linear of the attention input: GPTQ on the shared input's Hessian;
 * BoA and aespa quantize its q, k and v row blocks as separate projections with their per-head row factors ({@link
 * FusedQkv}) and write the blocks back into the fused tensor; AWQ gets its clipping search only (LayerNorm with a
 * bias: nothing to fold into).
 */
public final class SequentialQuantizer {
    /**
     * One quantized (or skipped) linear: relative output error on its calibration inputs, and the solver's time
     * (its site's quantizer time split evenly between the site's linears; calibration passes not included).
     */
    public record LinearReport(String name, int rows, int cols, boolean quantized, double relError, double seconds,
                               String note) {
    }

    /** One layer's linears, its total time and the part of it spent in calibration passes. */
    public record LayerReport(int layer, double seconds, double calibrationSeconds, List<LinearReport> linears) {
    }

    /**
     * What was produced.
     *
     * @param quantized    the quantized linears by tensor name ({@code blk.L.attn_q.weight} …)
     * @param replacedF32  other tensors that changed (AWQ's scaled norm gains, and v or up rows kept in float), float32
     * @param layers       per-layer reports
     * @param calibrationTokens tokens per calibration pass
     */
    public record Result(Map<String, QuantizedLinear> quantized, Map<String, Tensor> replacedF32,
                         List<LayerReport> layers, int calibrationTokens) {
    }

    /**
     * {@link ErrorPropagation}'s α of {@link #run(GgufFile, int[], int, SiteQuantizer.Options, Consumer)}: half the
     * correction, the paper's shrinkage against overfitting. On stories260K (GPTQ, Q4_1, groups of 32, BENCHMARKS
     * §14) with 12,213 calibration tokens α = 0 / 0.5 / 1 gave a mean KLD of 0.0322 / 0.0266 / 0.0256, but with 365
     * tokens 0.0379 / 0.0340 / 0.0444: the full correction overfits a small calibration set, half of it helped both.
     */
    public static final double DEFAULT_PROPAGATION = 0.5;
    // the linears of a site: the block's own, and those of a mixture-of-experts layer's shared expert
    private static final List<String> SUFFIXES = List.of("", "_shexp");
    // GPT-2's fused query/key/value projection [3·d, d]: one linear of the attention input (BoA, aespa: split, FusedQkv)
    private static final String FUSED_QKV = FusedQkv.NAME;
    private static final int CHUNK = 64;                 // tokens per forward call of a calibration pass

    private SequentialQuantizer() {
    }

    /**
     * Runs the protocol on {@code file} with calibration token ids {@code calib} in windows of {@code window}
     * tokens; {@code progress} gets one line per linear. RTN may run without calibration ({@code calib} null):
     * its reported error is then the relative weight error (H = I).
     *
     * @throws IllegalArgumentException if the model is not a decoder, or the calibration set is empty or missing
     *                                  for a calibrated method
     */
    public static Result run(GgufFile file, int[] calib, int window, SiteQuantizer.Options opt,
                             Consumer<String> progress) throws IOException {
        return run(file, calib, window, opt, DEFAULT_PROPAGATION, progress);
    }

    /**
     * As {@link #run(GgufFile, int[], int, SiteQuantizer.Options, Consumer)}, with the error propagation strength
     * {@code alpha} of {@link ErrorPropagation} (0: plain layer-wise targets; ignored for RTN): each calibrated
     * linear is fitted to the unquantized model's output on the same tokens, whose hidden states are carried
     * along beside the quantized model's.
     */
    public static Result run(GgufFile file, int[] calib, int window, SiteQuantizer.Options opt, double alpha,
                             Consumer<String> progress) throws IOException {
        return run(file, calib, window, opt, alpha, Map.of(), progress);
    }

    /**
     * As {@link #run(GgufFile, int[], int, SiteQuantizer.Options, double, Consumer)}, with the linears named in
     * {@code schemes} quantized on their own grid instead of {@code opt.scheme()} (mixed precision: each linear is
     * then fitted on the inputs of the earlier linears in their own formats). Not with AWQ, whose input scales are
     * shared by a site's linears.
     */
    public static Result run(GgufFile file, int[] calib, int window, SiteQuantizer.Options opt, double alpha,
                             Map<String, dev.interlayer.quant.QuantScheme> schemes, Consumer<String> progress)
            throws IOException {
        return run(file, calib, window, opt, alpha, schemes, null, progress);
    }

    /**
     * Without calibration tokens, from an importance matrix ({@code calib} null, {@code imatrix} given): RTN and AWQ
     * read each site's statistics from it instead of calibration passes, {@code H = diag(2·E[x²])} and AWQ's
     * statistic {@code sqrt(E[x²])} in place of mean |x|; nothing runs the model. The statistics are the float
     * model's (as llama-imatrix computes them), not the partly quantized model's of the sequential protocol.
     *
     * @throws IllegalArgumentException if the method is neither RTN nor AWQ, or as {@link Imatrix#site}
     */
    public static Result run(GgufFile file, Imatrix imatrix, SiteQuantizer.Options opt, Consumer<String> progress)
            throws IOException {
        if (opt.method() != SiteQuantizer.Method.RTN && opt.method() != SiteQuantizer.Method.AWQ) {
            throw new IllegalArgumentException("quantize: an importance matrix (diagonal statistics) serves rtn and awq,"
                    + " not " + opt.method().cliName() + " (which needs a full Hessian: give --calibration)");
        }
        return run(file, null, 0, opt, 0, Map.of(), imatrix, progress);
    }

    private static Result run(GgufFile file, int[] calib, int window, SiteQuantizer.Options opt, double alpha,
                              Map<String, dev.interlayer.quant.QuantScheme> schemes, Imatrix imatrix,
                              Consumer<String> progress) throws IOException {
        if (!schemes.isEmpty() && opt.method().awq()) {
            throw new IllegalArgumentException("quantize: per-linear formats need a method without AWQ's shared input"
                    + " scales, got " + opt.method().cliName());
        }
        if (calib == null ? opt.method() != SiteQuantizer.Method.RTN && imatrix == null : calib.length == 0) {
            throw new IllegalArgumentException("quantize: " + opt.method() + " needs calibration tokens");
        }
        Map<String, QuantizedLinear> quantized = new LinkedHashMap<>();
        Map<String, Tensor> replaced = new LinkedHashMap<>();   // this layer's quantized linears and AWQ norms
        Map<String, Tensor> changed = new LinkedHashMap<>();    // non-linear tensors changed (AWQ norms)
        List<LayerReport> layers = new ArrayList<>();
        DecoderStack stack0 = stack(file, replaced);
        int n = stack0.layers();
        int win = Math.min(window, stack0.contextLength());
        // the calibration stream's hidden states entering layer l, through the already quantized layers before it:
        // the only model-sized state kept besides the codes ([tokens, d] float32, independent of depth)
        float[] x = calib == null ? null : Calibration.decoderInput(stack0, calib, win, CHUNK);
        boolean propagate = x != null && alpha != 0 && opt.method() != SiteQuantizer.Method.RTN;
        float[] xf = propagate ? x.clone() : null;              // the same tokens' states in the unquantized model
        boolean attentionAware = opt.method() == SiteQuantizer.Method.BOA || opt.method() == SiteQuantizer.Method.AESPA;
        for (int l = 0; l < n; l++) {
            long t0 = System.nanoTime(), calibNanos = 0;
            AttentionConfig ac = stack0.blocks().get(l).config().attention();
            List<LinearReport> reports = new ArrayList<>();
            for (LinearSite site : LinearSite.values()) {
                // an MoE layer's FFN input: one AWQ scale for the router and all experts, folded before they are quantized
                long m0 = System.nanoTime();
                ExpertAwqScale.Search moe = site == LinearSite.FFN_IN && opt.method().awq() && x != null
                        ? ExpertAwqScale.run(file, l, n, block(file, replaced, l), x, xf, win, opt.scheme(),
                        opt.awqObjective(), replaced, changed, progress) : null;
                double[] moeScale = moe == null ? null : moe.scales();
                calibNanos += moeScale == null ? 0 : System.nanoTime() - m0;
                for (String suffix : SUFFIXES) {          // the block's own linears, then a shared expert's
                    List<SiteQuantizer.Linear> linears = linears(file, replaced, l, n, site, suffix, ac,
                            opt.scheme().groupSize(), reports, progress);
                    if (linears.isEmpty()) {
                        continue;
                    }
                    long s0 = System.nanoTime();
                    int dIn = linears.get(0).cols();
                    double[] h, meanAbs;
                    List<float[]> fullTargets = null;                 // error propagation's targets at strength 1
                    HeadFactors headFactors = null;
                    if (calib == null && imatrix != null) {
                        double[] e = imatrix.site(linears.stream().map(SiteQuantizer.Linear::name).toList(), dIn);
                        h = new double[dIn * dIn];
                        meanAbs = new double[dIn];
                        for (int j = 0; j < dIn; j++) {
                            h[j * dIn + j] = 2 * e[j];
                            meanAbs[j] = Math.sqrt(e[j]);
                        }
                    } else if (calib == null) {
                        h = null;                            // RTN: reads neither; its error is the relative weight error
                        meanAbs = null;
                    } else {
                        String key = CalibrationTap.name(0, site, suffix.isEmpty() ? -1   // block 0 of the one-block stack
                                : LinearTap.SHARED_EXPERT);
                        CalibrationStats stats = new CalibrationStats(true);
                        headFactors = site == LinearSite.ATTN_QKV && attentionAware ? headFactors(ac, FusedQkv.split(linears, ac), dIn, win) : null;
                        HeadFactors hf = headFactors;
                        float[] xs = propagate ? siteInputs(block(file, Map.of(), l), xf, win, key, dIn) : null;
                        if (xs != null && moeScale != null) {   // the float model's input as the folded model reads it
                            for (int i = 0; i < xs.length; i++) {
                                xs[i] = (float) (xs[i] / moeScale[i % dIn]);
                            }
                        }
                        double[] cross = propagate ? new double[dIn * dIn] : null;
                        int[] row = {0};
                        Calibration.decoderBlocks(block(file, replaced, l), x, win, CHUNK, (name, rows, m, d, keep) -> {
                            if (name.equals(key)) {
                                stats.accept(name, rows, m, d, keep);
                                if (hf != null) {
                                    hf.accept(rows, m);
                                }
                                if (cross != null) {             // same windows and chunks: row t is token t in both
                                    ErrorPropagation.accumulate(cross, xs, row[0] * d, rows, m, d, 2.0 / calib.length);
                                    row[0] += m;
                                }
                            }
                        }, false);
                        h = stats.hessian(key).hessian();
                        meanAbs = stats.activations().get(key).meanAbs();
                        if (propagate) {
                            double[] m = ErrorPropagation.correction(h, cross, dIn, opt.gptq().percDamp());
                            if (opt.awqObjective() == SiteQuantizer.AwqObjective.LINEAR_FLOAT) {
                                fullTargets = new ArrayList<>();
                                for (SiteQuantizer.Linear lin : linears) {
                                    fullTargets.add(ErrorPropagation.apply(lin.w(), lin.rows(), lin.cols(), m, 1));
                                }
                            }
                            linears = targets(linears, m, alpha);
                        }
                    }
                    long c1 = System.nanoTime();
                    calibNanos += c1 - s0;
                    // BoA and aespa see a fused qkv as its q, k and v row blocks, each with its per-head objective
                    List<SiteQuantizer.Linear> parts = attentionAware && schemes.isEmpty() ? FusedQkv.split(linears, ac)
                            : linears;
                    List<double[][]> rowFactors = rowFactors(parts, headFactors);
                    // a shared expert's input norm also feeds the router and the routed experts: nothing to fold into
                    AwqFolding fold = opt.method().awq() && h != null && suffix.isEmpty()
                            ? AwqFolding.of(file, l, site, ac, dIn) : null;
                    SiteQuantizer.Options so = opt.withAwqScales(fold != null);
                    Awq.Objective objective = fold == null ? null : switch (opt.awqObjective()) {
                        case LINEAR -> null;
                        case LINEAR_FLOAT -> fullTargets == null ? null
                                : Awq.outputError(fullTargets, linears.stream().mapToInt(SiteQuantizer.Linear::rows).toArray(), h);
                        case BLOCK, BLOCK_FLOAT -> AwqBlockObjective.of(file, replaced, l, site, linears, x,
                                opt.awqObjective() == SiteQuantizer.AwqObjective.BLOCK_FLOAT ? xf : null, win);
                    };
                    SiteQuantizer.Result r = schemes.isEmpty() ? FusedQkv.join(linears, parts, SiteQuantizer.quantize(
                            parts, dIn, h, fold == null ? meanAbs : fold.statistic(meanAbs), rowFactors, so, objective,
                            fold == null ? null : fold.tie()))
                            : perLinear(linears, dIn, h, meanAbs, rowFactors, so, schemes);
                    double[] s = r.inputScales();
                    double[] hq = s == null ? h : Awq.scaledHessian(h, s);
                    if (s != null && fold != null) {
                        fold.apply(s, file, quantized, replaced, changed);
                    }
                    double secs = (System.nanoTime() - c1) / 1e9 / linears.size();
                    record(l, n, linears, r, hq, secs, quantized, replaced, reports, progress);
                }
                calibNanos += ExpertQuantizer.quantize(file, l, n, site, x == null ? null : block(file, replaced, l),
                        x, win, imatrix, opt, schemes, quantized, replaced, reports, progress);
            }
            if (x != null && l + 1 < n) {
                long s0 = System.nanoTime();
                Calibration.decoderBlocks(block(file, replaced, l), x, win, CHUNK, null, true);   // x ← layer l's output
                if (xf != null) {
                    Calibration.decoderBlocks(block(file, Map.of(), l), xf, win, CHUNK, null, true);
                }
                calibNanos += System.nanoTime() - s0;
            }
            replaced.clear();                            // later layers read x, not this layer's dequantized weights
            layers.add(new LayerReport(l, (System.nanoTime() - t0) / 1e9, calibNanos / 1e9, reports));
        }
        return new Result(quantized, changed, layers, calib == null ? 0 : calib.length);
    }

    // a site whose linears have their own grids: each set of linears on one grid quantized together (not AWQ)
    static SiteQuantizer.Result perLinear(List<SiteQuantizer.Linear> linears, int dIn, double[] h,
                                                  double[] meanAbs, List<double[][]> rowFactors, SiteQuantizer.Options so,
                                                  Map<String, dev.interlayer.quant.QuantScheme> schemes) {
        QuantizedLinear[] out = new QuantizedLinear[linears.size()];
        Map<dev.interlayer.quant.QuantScheme, List<Integer>> byScheme = new LinkedHashMap<>();
        for (int i = 0; i < linears.size(); i++) {
            byScheme.computeIfAbsent(schemes.getOrDefault(linears.get(i).name(), so.scheme()), k -> new ArrayList<>())
                    .add(i);
        }
        byScheme.forEach((scheme, idx) -> {
            List<SiteQuantizer.Linear> sub = new ArrayList<>();
            List<double[][]> factors = new ArrayList<>();
            for (int i : idx) {
                sub.add(linears.get(i));
                factors.add(rowFactors.get(i));
            }
            List<QuantizedLinear> q = SiteQuantizer.quantize(sub, dIn, h, meanAbs, factors, so.withScheme(scheme))
                    .weights();
            for (int j = 0; j < idx.size(); j++) {
                out[idx.get(j)] = q.get(j);
            }
        });
        return new SiteQuantizer.Result(List.of(out), null);
    }

    /**
     * The 2-D linears of layer {@code l} that read {@code site}'s input ({@code blk.l.<linear>.weight}), as float32;
     * those whose columns are not a multiple of {@code group} are reported as kept and left out.
     */
    static List<SiteQuantizer.Linear> linears(GgufFile file, int l, int n, LinearSite site, AttentionConfig ac,
                                              int group, List<LinearReport> reports, Consumer<String> progress) {
        return linears(file, Map.of(), l, n, site, "", ac, group, reports, progress);
    }

    /**
     * As {@link #linears(GgufFile, int, int, LinearSite, AttentionConfig, int, List, Consumer)}, with {@code suffix}
     * appended to each linear's name: {@code ""} for the block's own linears (the attention input adds GPT-2's
     * fused {@code attn_qkv}), {@code "_shexp"} for a mixture-of-experts layer's shared expert ({@code ffn_gate_shexp},
     * {@code ffn_up_shexp}, {@code ffn_down_shexp}), and each weight's current value from {@code current} if there
     * (an MoE layer's AWQ fold scales the shared expert's columns before it is quantized), else from the file.
     */
    static List<SiteQuantizer.Linear> linears(GgufFile file, Map<String, Tensor> current, int l, int n,
                                              LinearSite site, String suffix, AttentionConfig ac, int group,
                                              List<LinearReport> reports, Consumer<String> progress) {
        List<SiteQuantizer.Linear> linears = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String lin : site.linears()) {
            names.add(lin + suffix);
        }
        if (site == LinearSite.ATTN_QKV && suffix.isEmpty()) {
            names.add(FUSED_QKV);
        }
        for (String lin : names) {
            String name = "blk." + l + "." + lin + ".weight";
            if (!file.contains(name) || file.tensor(name).rank() != 2) {
                continue;
            }
            Tensor t = current.containsKey(name) ? current.get(name) : file.tensor(name);   // AWQ's MoE fold scaled it
            int rows = t.dim(0), cols = t.dim(1);
            if (cols % group != 0) {
                reports.add(new LinearReport(name, rows, cols, false, 0, 0, cols + " input columns are not a"
                        + " multiple of " + group + ": kept as " + file.dtype(name)));
                progress.accept(String.format("layer %d/%d %-16s kept (%d columns not a multiple of %d)",
                        l + 1, n, lin, cols, group));
                continue;
            }
            int heads = lin.equals("attn_q") ? ac.heads() : lin.equals("attn_k") || lin.equals("attn_v")
                    ? ac.kvHeads() : 1;
            linears.add(new SiteQuantizer.Linear(name, t.toF32().toFloatArray(), rows, cols, heads));
        }
        return linears;
    }

    /**
     * Records a site's result: each linear's relative output error under {@code hq} (the Hessian of the input the
     * quantized weights read), its quantized form, its dequantized weights in {@code replaced} (what the model runs
     * with from now on), a report and a progress line.
     */
    static void record(int l, int n, List<SiteQuantizer.Linear> linears, SiteQuantizer.Result r, double[] hq,
                       double secs, Map<String, QuantizedLinear> quantized, Map<String, Tensor> replaced,
                       List<LinearReport> reports, Consumer<String> progress) {
        double[] s = r.inputScales();
        for (int i = 0; i < linears.size(); i++) {
            SiteQuantizer.Linear lin = linears.get(i);
            QuantizedLinear q = r.weights().get(i);
            float[] w = s == null ? lin.w() : Awq.scaleColumns(lin.w(), lin.rows(), lin.cols(), s);
            double err = SiteQuantizer.relativeError(w, q, hq);
            quantized.put(lin.name(), q);
            replaced.put(lin.name(), Tensor.wrap(q.dequantize(), Shape.of(lin.rows(), lin.cols())));
            reports.add(new LinearReport(lin.name(), lin.rows(), lin.cols(), true, err, secs, ""));
            progress.accept(String.format(java.util.Locale.ROOT, "layer %d/%d %-16s [%d x %d] rel. error %.3e"
                    + "  %.2f s", l + 1, n, lin.name().substring(lin.name().indexOf('.', 4) + 1,
                    lin.name().length() - 7), lin.rows(), lin.cols(), err, secs));
        }
    }

    /** The row factors of each linear: per query / key head from {@code hf}, null (identity) for others or no hf. */
    static List<double[][]> rowFactors(List<SiteQuantizer.Linear> linears, HeadFactors hf) {
        List<double[][]> rowFactors = new ArrayList<>();
        for (SiteQuantizer.Linear lin : linears) {
            rowFactors.add(hf == null ? null : lin.name().contains(".attn_q.") ? hf.forQueries()
                    : lin.name().contains(".attn_k.") ? hf.forKeys() : null);
        }
        return rowFactors;
    }

    // BoA's and aespa's per-head row factors, from the q and k weights of this attention input (null without both)
    static HeadFactors headFactors(AttentionConfig ac, List<SiteQuantizer.Linear> linears, int dIn, int window) {
        float[] wq = null, wk = null;
        for (SiteQuantizer.Linear lin : linears) {
            if (lin.name().contains(".attn_q.")) {
                wq = lin.w();
            } else if (lin.name().contains(".attn_k.")) {
                wk = lin.w();
            }
        }
        return wq == null || wk == null ? null : new HeadFactors(ac, wq, wk, dIn, window);
    }

    // The rows [tokens, dIn] that the linears of site `key` (of a one-block stack) read when x [tokens, d] runs through it.
    static float[] siteInputs(DecoderStack block, float[] x, int win, String key, int dIn) {
        int tokens = x.length / block.blocks().get(0).config().hidden();
        float[] out = new float[Math.multiplyExact(tokens, dIn)];
        int[] row = {0};
        Calibration.decoderBlocks(block, x, win, CHUNK, (name, rows, m, d, keep) -> {
            if (name.equals(key)) {
                System.arraycopy(rows, 0, out, row[0] * d, m * d);
                row[0] += m;
            }
        }, false);
        return out;
    }

    // The linears with their weights replaced by ErrorPropagation's targets W + α·W·m; the correction
    // m = D·(H + λI)⁻¹ is the same for every linear of a site (q, k, v; gate, up), so it is computed once.
    private static List<SiteQuantizer.Linear> targets(List<SiteQuantizer.Linear> linears, double[] m, double alpha) {
        List<SiteQuantizer.Linear> out = new ArrayList<>();
        for (SiteQuantizer.Linear lin : linears) {
            out.add(new SiteQuantizer.Linear(lin.name(), ErrorPropagation.apply(lin.w(), lin.rows(), lin.cols(), m,
                    alpha), lin.rows(), lin.cols(), lin.heads()));
        }
        return out;
    }

    /** Block {@code l} of {@code file}, with {@code replaced} tensors served in place of the file's, as a stack of its own. */
    static DecoderStack block(GgufFile file, Map<String, Tensor> replaced, int l) throws IOException {
        return new DecoderStack(null, null, null, List.of(stack(file, replaced).blocks().get(l)), null);
    }

    /** The decoder stack of {@code file} with {@code replaced} tensors served in place of the file's. */
    static DecoderStack stack(GgufFile file, Map<String, Tensor> replaced) throws IOException {
        return decoder(file, replaced).stack();
    }

    /** The decoder of {@code file} with {@code replaced} tensors served in place of the file's. */
    static DecoderLM decoder(GgufFile file, Map<String, Tensor> replaced) throws IOException {
        HiddenStates m = Families.requireGguf(file.path(), file.architecture()).builder().gguf()
                .build(file, replaced.isEmpty() ? file : new ReplacedWeights(file, replaced));
        if (!(m instanceof DecoderLM lm)) {
            throw new IllegalArgumentException("quantize --method: " + file.path().getFileName() + " is not a decoder"
                    + " (calibrated quantization runs decoders; use --type for plain rounding)");
        }
        return lm;
    }
}
