package dev.interlayer.models.quantize;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.quant.BitLadder;
import dev.interlayer.quant.MixedPrecision;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code --method mixed}: every block linear gets one format of a ladder ({@link LadderFormat}, e.g. Q8_0, Q5_0,
 * Q4_0, 3-bit, 2-bit), chosen by {@link BitLadder} for a bound on the average bits per weight or on the mean KL
 * divergence from the unquantized model on the calibration tokens (Schaefer et al., arXiv 2306.04879). Every
 * format is produced by its own sequential run ({@link SequentialQuantizer}, with {@code opt}'s method and
 * settings). A linear's sensitivity to format f combines its Hessian error {@code Ω_ℓ(f)} (relative output error
 * of that run) with the measured KLD {@code D_ℓ(f)} of the model with only that linear at f (the rest
 * unquantized), each divided by its mean over all (linear, format) pairs and added
 * ({@link MixedPrecision#scores}). Bits are exact per linear ({@link QuantizedLinear#bitsPerWeight} × weights:
 * codes, fp16 scales and offsets); the average is over the quantized linears only (linears the formats do not
 * fit, embeddings, norms and the output head stay as in the source and are not counted). The sensitivities are
 * measured on the first {@value #SENSITIVITY_WINDOWS} calibration windows, every bound check on all of them, against
 * the float model's logits computed once ({@link CachedReference}). With {@code --target-bits} the chosen formats are
 * quantized once more in one sequential run (each linear on the inputs of the earlier linears in their chosen
 * formats) and that result is kept if its calibration KLD is lower than the assembly of the per-format runs; with
 * {@code --target-kld} the result is the last assembly evaluated within the bound (the bisection's, or a
 * single-linear move from it that closes the gap to the bound, {@link #BAND}), so the bound holds on what is
 * returned (a bound that even the ladder's highest format misses is an error).
 */
public final class MixedQuantizer {
    /**
     * The result.
     *
     * @param result      the chosen linears (in {@code result.quantized()}) with the reports of the run each came from
     * @param formatNames the ladder's names
     * @param counts      linears per format
     * @param kld         the evaluated mean KLD of the assignment on the calibration tokens
     * @param bitsPerWeight average bits per weight of the quantized linears
     * @param target      the bound, as text ({@code KLD <= 0.01000} or {@code <= 4.500 bits per weight})
     * @param evaluations full evaluations made (sensitivities and search)
     */
    public record Result(SequentialQuantizer.Result result, List<String> formatNames, int[] counts, double kld,
                         double bitsPerWeight, String target, int evaluations) {
        /** One line: linears per format, bits per weight, calibration KLD and the bound. */
        public String describe() {
            StringBuilder b = new StringBuilder("(");
            for (int f = 0; f < counts.length; f++) {
                b.append(f == 0 ? "" : ", ").append(counts[f]).append(" ").append(formatNames.get(f));
            }
            return b.append(String.format(Locale.ROOT, "; %.3f bits per weight; calibration KLD %.5f; target %s;"
                    + " %d evaluations)", bitsPerWeight, kld, target, evaluations)).toString();
        }
    }

    /**
     * Calibration windows the per-linear sensitivities are measured on (the first ones): one evaluation per linear
     * and format is the bulk of the search's time, and a ranking needs fewer tokens than the bound's check, which
     * always uses every window.
     */
    static final int SENSITIVITY_WINDOWS = 8;

    private MixedQuantizer() {
    }

    /**
     * The bisection's band: after the path's bisection, single-linear moves off the path are tried while the KLD is
     * below this fraction of the bound ({@link BitLadder#atBound(double[][], double[][], double, double, int,
     * MixedPrecision.Evaluator)}), so the result lands within 10 % of the bound where a move that small exists.
     */
    static final double BAND = 0.9;

    /** At most this many evaluations are spent closing the gap to the bound after the bisection. */
    static final int EXTRA_EVALUATIONS = 8;

    /**
     * Quantizes {@code file} at every format of {@code ladder} (highest first) and assigns formats: with
     * {@code targetBits} the least additive sensitivity at ≤ that many bits per weight ({@link BitLadder#atBits}),
     * else the fewest bits whose calibration KLD is ≤ {@code targetKld} ({@link BitLadder#atBound}, then up to
     * {@value #EXTRA_EVALUATIONS} single-linear moves while the KLD is below {@value #BAND} of the bound).
     *
     * @throws IllegalArgumentException if the calibration text is shorter than one window, both or neither bound
     *                                  is given, or the target bits are below the ladder's lowest reachable average
     */
    public static Result run(GgufFile file, int[] calib, int window, SiteQuantizer.Options opt, List<LadderFormat> ladder,
                             Double targetKld, Double targetBits, Consumer<String> progress) throws IOException {
        if ((targetKld == null) == (targetBits == null)) {
            throw new IllegalArgumentException("--method mixed: give one of --target-kld and --target-bits");
        }
        Prepared p = prepare(file, calib, window, opt, ladder, progress);
        return targetKld != null ? p.atKld(targetKld, BAND, EXTRA_EVALUATIONS) : p.atBits(targetBits, opt, window);
    }

    /**
     * Runs every format of {@code ladder} and measures each linear's sensitivities: what both bounds choose from.
     *
     * @throws IllegalArgumentException if the calibration text is shorter than one window
     */
    static Prepared prepare(GgufFile file, int[] calib, int window, SiteQuantizer.Options opt, List<LadderFormat> ladder,
                            Consumer<String> progress) throws IOException {
        DecoderLM ref = SequentialQuantizer.decoder(file, Map.of());
        int ctx = Math.min(window, ref.contextLength());
        if (calib == null || ctx < 2 || calib.length < ctx) {   // checked before the quantizations, not after
            throw new IllegalArgumentException("--method mixed: the calibration text has " + (calib == null ? 0
                    : calib.length) + " tokens; its KLD evaluation needs at least one window of " + Math.max(ctx, 2)
                    + " (the model's context " + ref.contextLength() + ", --ctx " + window + ")");
        }
        checkCacheFits(calib.length, Math.min(calib.length, SENSITIVITY_WINDOWS * ctx), ref.vocabSize());
        CausalLM cached = new CachedReference(ref, calib);    // the float model's logits, computed once
        // sensitivities (one evaluation per linear and format) on the first SENSITIVITY_WINDOWS windows only
        int[] sens = calib.length > SENSITIVITY_WINDOWS * ctx ? java.util.Arrays.copyOf(calib, SENSITIVITY_WINDOWS * ctx)
                : calib;
        CausalLM cachedSens = sens == calib ? cached : new CachedReference(ref, sens);
        int nf = ladder.size();
        List<SequentialQuantizer.Result> runs = new ArrayList<>();
        for (LadderFormat f : ladder) {
            progress.accept("mixed: format " + f.describe());
            runs.add(SequentialQuantizer.run(file, calib, window, opt.withScheme(f.scheme(opt.scheme().clip())),
                    progress));
        }
        List<String> names = new ArrayList<>(runs.get(0).quantized().keySet());
        int n = names.size();
        double[][] omega = new double[n][nf], d = new double[n][nf], bits = new double[n][nf];
        List<Map<String, Tensor>> deq = new ArrayList<>();
        for (int f = 0; f < nf; f++) {
            Map<String, Double> relErr = new HashMap<>();
            runs.get(f).layers().forEach(l -> l.linears().forEach(r -> relErr.put(r.name(), r.relError())));
            deq.add(dequantized(file, runs.get(f).quantized()));
            for (int i = 0; i < n; i++) {
                QuantizedLinear q = runs.get(f).quantized().get(names.get(i));
                if (q == null) {                      // the format does not fit this linear's rows
                    omega[i][f] = d[i][f] = bits[i][f] = Double.NaN;
                    continue;
                }
                bits[i][f] = q.bitsPerWeight() * q.rows() * q.cols();
                omega[i][f] = relErr.get(names.get(i));
                d[i][f] = klMean(file, Map.of(names.get(i), deq.get(f).get(names.get(i))), cachedSens, sens, ctx);
                progress.accept(String.format(Locale.ROOT, "mixed: %-26s alone at %-5s: KLD %.6f, rel. error %.3e",
                        names.get(i), ladder.get(f).name(), d[i][f], omega[i][f]));
            }
        }
        double weights = 0;                               // quantized parameters
        for (String name : names) {
            weights += (double) runs.get(0).quantized().get(name).rows() * runs.get(0).quantized().get(name).cols();
        }
        return new Prepared(file, calib, ctx, ladder, cached, names, runs, deq, costs(omega, d), bits, weights,
                progress, new int[] {n * nf});
    }

    /**
     * The per-format runs of one model and what the bounds choose from.
     *
     * @param cached  the float model's logits on {@code calib}
     * @param names   the quantized linears, in the runs' order
     * @param deq     per format, its run's linears dequantized
     * @param cost    [linear][format] the additive sensitivity ({@link #costs})
     * @param bits    [linear][format] exact storage bits (NaN where the format does not fit)
     * @param weights quantized parameters (the denominator of bits per weight)
     * @param evals   full evaluations so far (sensitivities included), one counter
     */
    record Prepared(GgufFile file, int[] calib, int ctx, List<LadderFormat> ladder, CausalLM cached, List<String> names,
                    List<SequentialQuantizer.Result> runs, List<Map<String, Tensor>> deq, double[][] cost,
                    double[][] bits, double weights, Consumer<String> progress, int[] evals) {
        /** The calibration KLD of an assignment assembled from the per-format runs (one full evaluation). */
        double kld(int[] formats) {
            evals[0]++;
            double kld = klMean(file, assemble(names, formats, deq), cached, calib, ctx);
            progress.accept(String.format(Locale.ROOT, "mixed: %.3f bits per weight -> KLD %.6f",
                    BitLadder.totalBits(bits, formats) / weights, kld));
            return kld;
        }

        private List<String> formatNames() {
            return ladder.stream().map(LadderFormat::name).toList();
        }

        /** The fewest bits whose calibration KLD is ≤ {@code bound}; the linears returned are the evaluated ones. */
        Result atKld(double bound, double band, int extraEvaluations) {
            BitLadder.Choice c = BitLadder.atBound(cost, bits, bound, band, extraEvaluations, this::kld);
            if (!(c.metric() <= bound)) {   // even the path's start (every linear at its highest rung) is over
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--target-kld %.6f: even every linear at"
                        + " its highest format (%s) gives KLD %.6f on the calibration text; give a larger bound or a"
                        + " ladder with more bits", bound, ladder.get(0).name(), c.metric()));
            }
            return new Result(assembleResult(names, c.formats(), runs), formatNames(), counts(c.formats(), ladder.size()),
                    c.metric(), c.bits() / weights, String.format(Locale.ROOT, "KLD <= %.5f", bound), evals[0]);
        }

        /** The least additive sensitivity at ≤ {@code targetBits} bits per weight, refit when that is better. */
        Result atBits(double targetBits, SiteQuantizer.Options opt, int window) throws IOException {
            List<int[]> path = BitLadder.path(cost, bits);
            double fewest = BitLadder.totalBits(bits, path.get(path.size() - 1)) / weights;
            if (targetBits < fewest) {                 // a linear the lowest rungs do not fit keeps more bits
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--target-bits %.3f: the ladder reaches"
                        + " no fewer than %.3f bits per weight on this model (every linear at its lowest fitting"
                        + " format)", targetBits, fewest));
            }
            BitLadder.Choice c = BitLadder.atBits(cost, bits, targetBits * weights);
            String target = String.format(Locale.ROOT, "<= %.3f bits per weight", targetBits);
            double assembled = kld(c.formats());
            // Each format's run fitted its linears to inputs from earlier linears in that same format (and error
            // propagation corrected for them); mixed, those inputs differ. One more sequential run quantizes every
            // linear in its chosen format on the inputs of the chosen earlier ones; the lower calibration KLD of the
            // two is kept.
            Map<String, dev.interlayer.quant.QuantScheme> schemes = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                schemes.put(names.get(i), ladder.get(c.formats()[i]).scheme(opt.scheme().clip()));
            }
            progress.accept("mixed: refit in the chosen formats");
            SequentialQuantizer.Result refit = SequentialQuantizer.run(file, calib, window, opt,
                    SequentialQuantizer.DEFAULT_PROPAGATION, schemes, progress);
            double refitKld = klMean(file, dequantized(file, refit.quantized()), cached, calib, ctx);
            evals[0]++;
            progress.accept(String.format(Locale.ROOT, "mixed: refit -> KLD %.6f (assembled from the runs %.6f)",
                    refitKld, assembled));
            int[] counts = counts(c.formats(), ladder.size());
            if (refitKld <= assembled) {
                double refitBits = 0;
                for (QuantizedLinear q : refit.quantized().values()) {
                    refitBits += q.bitsPerWeight() * q.rows() * q.cols();
                }
                return new Result(refit, formatNames(), counts, refitKld, refitBits / weights, target + ", refit",
                        evals[0]);
            }
            return new Result(assembleResult(names, c.formats(), runs), formatNames(), counts, assembled,
                    c.bits() / weights, target, evals[0]);
        }
    }

    /**
     * The cost of each (linear, format): {@code Ω/mean(Ω) + D/mean(D)}, means over every pair that fits (NaN stays
     * NaN), as {@link MixedPrecision#scores} with equal weights.
     */
    static double[][] costs(double[][] omega, double[][] d) {
        int n = omega.length, nf = n == 0 ? 0 : omega[0].length;
        List<Double> o = new ArrayList<>(), k = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < nf; f++) {
                if (!Double.isNaN(omega[i][f])) {
                    o.add(omega[i][f]);
                    k.add(d[i][f]);
                }
            }
        }
        double[] s = MixedPrecision.scores(o.stream().mapToDouble(x -> x).toArray(),
                k.stream().mapToDouble(x -> x).toArray(), 1, 1);
        double[][] cost = new double[n][nf];
        int j = 0;
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < nf; f++) {
                cost[i][f] = Double.isNaN(omega[i][f]) ? Double.NaN : s[j++];
            }
        }
        return cost;
    }

    private static double klMean(GgufFile file, Map<String, Tensor> replaced, CausalLM ref, int[] calib, int ctx) {
        try {
            return LmEval.evaluate(SequentialQuantizer.decoder(file, replaced), ref, calib, ctx).klMean();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] counts(int[] formats, int nf) {
        int[] c = new int[nf];
        for (int f : formats) {
            c[f]++;
        }
        return c;
    }

    // the chosen linears, each with the report of the run it came from
    private static SequentialQuantizer.Result assembleResult(List<String> names, int[] formats,
                                                             List<SequentialQuantizer.Result> runs) {
        Map<String, Integer> pick = new HashMap<>();
        Map<String, QuantizedLinear> chosen = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            pick.put(names.get(i), formats[i]);
            chosen.put(names.get(i), runs.get(formats[i]).quantized().get(names.get(i)));
        }
        List<SequentialQuantizer.LayerReport> reports = new ArrayList<>();
        SequentialQuantizer.Result top = runs.get(0);
        for (int l = 0; l < top.layers().size(); l++) {
            List<SequentialQuantizer.LinearReport> lin = new ArrayList<>();
            double secs = 0, calibSecs = 0;
            for (SequentialQuantizer.Result r : runs) {
                secs += r.layers().get(l).seconds();
                calibSecs += r.layers().get(l).calibrationSeconds();
            }
            for (int k = 0; k < top.layers().get(l).linears().size(); k++) {
                var r0 = top.layers().get(l).linears().get(k);
                Integer f = pick.get(r0.name());
                lin.add(f == null ? r0 : runs.get(f).layers().get(l).linears().stream()
                        .filter(x -> x.name().equals(r0.name())).findFirst().orElse(r0));
            }
            reports.add(new SequentialQuantizer.LayerReport(l, secs, calibSecs, lin));
        }
        return new SequentialQuantizer.Result(chosen, Map.of(), reports, top.calibrationTokens());
    }

    static Map<String, Tensor> assemble(List<String> names, int[] formats, List<Map<String, Tensor>> deq) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            m.put(names.get(i), deq.get(formats[i]).get(names.get(i)));
        }
        return m;
    }

    /**
     * Dequantized float32 copies of {@code q}'s linears in their tensors' shapes in {@code file} (a stack of experts
     * {@code [E·rows, cols]} as its {@code [E, rows, cols]}), to serve through {@link ReplacedWeights}.
     */
    public static Map<String, Tensor> dequantized(GgufFile file, Map<String, QuantizedLinear> q) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        q.forEach((k, v) -> m.put(k, Tensor.wrap(v.dequantize(), file.contains(k) ? file.info(k).shape()
                : Shape.of(v.rows(), v.cols()))));
        return m;
    }

    /**
     * The decoder of {@code file} running {@code r}'s quantized linears dequantized to float32 (and its replaced float
     * tensors): the quantized model's weights with float arithmetic, for formats that no GGUF type stores.
     */
    public static DecoderLM inMemory(GgufFile file, SequentialQuantizer.Result r) throws IOException {
        Map<String, Tensor> m = dequantized(file, r.quantized());
        m.putAll(r.replacedF32());
        return SequentialQuantizer.decoder(file, m);
    }

    // The cached reference logits (calibration tokens, plus the sensitivity windows when they are a separate cache)
    // are float rows of the vocabulary: refuse up front what the heap cannot hold, not after the per-format runs.
    static void checkCacheFits(int tokens, int sensitivityTokens, int vocab) {
        long bytes = 4L * vocab * (tokens + (sensitivityTokens < tokens ? sensitivityTokens : 0));
        long max = Runtime.getRuntime().maxMemory();
        if (bytes > max / 2) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "--method mixed: caching the"
                    + " unquantized model's logits for %,d calibration tokens x %,d vocabulary needs %,d MB, more than"
                    + " half of the heap (%,d MB); give a shorter calibration text or a larger -Xmx", tokens, vocab,
                    bytes >> 20, max >> 20));
        }
    }
}
