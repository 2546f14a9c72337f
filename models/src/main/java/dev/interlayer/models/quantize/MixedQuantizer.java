package dev.interlayer.models.quantize;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.MixedPrecision;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code --method mixed}: every block linear gets either the requested low format (e.g. Q4_1) or Q8_0, whichever
 * {@link MixedPrecision#search} picks under a bound on the mean KL divergence from the unquantized model on the
 * calibration tokens (Schaefer et al., arXiv 2306.04879). Both formats are produced by the sequential GPTQ run
 * ({@link SequentialQuantizer}); a linear's sensitivity combines its Hessian error {@code Ω_ℓ} at the low format
 * with the measured KLD {@code D_ℓ} of the model with only that linear at the low format (the rest unquantized),
 * equally weighted; the bisection evaluates the real KLD of each candidate assignment.
 */
public final class MixedQuantizer {
    /**
     * The result: the assembled linears (with per-layer reports of the low-format run), and what the search found.
     *
     * @param result   the chosen linears (in {@code result.quantized()}) with the reports of the run each came from
     * @param low      linears at the low format
     * @param kld      the evaluated mean KLD of the assignment on the calibration tokens
     * @param target   the bound
     * @param evaluations full evaluations made by the search
     */
    public record Result(SequentialQuantizer.Result result, int low, int total, double kld, double target,
                         int evaluations) {
        /** One line: how many linears went low, the KLD against the bound. */
        public String describe() {
            return String.format(Locale.ROOT, "(%d of %d linears low, %d high; calibration KLD %.5f <= target %.5f,"
                    + " %d evaluations)", low, total, total - low, kld, target, evaluations);
        }
    }

    private MixedQuantizer() {
    }

    /**
     * Quantizes {@code file} at {@code opt.scheme()} and at Q8_0 (both with {@code opt}'s GPTQ settings), then
     * assigns formats so that the calibration KLD stays within {@code target}.
     *
     * @throws IllegalArgumentException if the requested format is already 8-bit
     */
    public static Result run(GgufFile file, int[] calib, int window, SiteQuantizer.Options opt, double target,
                             Consumer<String> progress) throws IOException {
        if (opt.scheme().bits() >= 8) {
            throw new IllegalArgumentException("--method mixed mixes --bits 4 or 5 with Q8_0; got --bits " + opt.scheme().bits());
        }
        DecoderLM ref = SequentialQuantizer.decoder(file, Map.of());
        int ctx = Math.min(window, ref.contextLength());
        if (calib == null || ctx < 2 || calib.length < ctx) {   // checked before the two quantizations, not after
            throw new IllegalArgumentException("--method mixed: the calibration text has " + (calib == null ? 0
                    : calib.length) + " tokens; its KLD evaluation needs at least one window of " + Math.max(ctx, 2)
                    + " (the model's context " + ref.contextLength() + ", --ctx " + window + ")");
        }
        QuantScheme high = GgmlBlocks.scheme(8, GgmlBlocks.GROUP, true, ClipSearch.NONE);
        progress.accept("mixed: low format " + GgmlBlocks.typeOf(opt.scheme()));
        SequentialQuantizer.Result lo = SequentialQuantizer.run(file, calib, window, opt, progress);
        progress.accept("mixed: high format Q8_0");
        SequentialQuantizer.Result hi = SequentialQuantizer.run(file, calib, window,
                new SiteQuantizer.Options(opt.method(), high, opt.gptq(), opt.aespa(), opt.awqScales()), progress);
        List<String> names = new ArrayList<>(lo.quantized().keySet());
        int n = names.size();
        Map<String, Tensor> loT = dequantized(lo.quantized()), hiT = dequantized(hi.quantized());
        double[] omega = new double[n], d = new double[n], saved = new double[n];
        Map<String, Double> relErr = new LinkedHashMap<>();
        lo.layers().forEach(l -> l.linears().forEach(r -> relErr.put(r.name(), r.relError())));
        double bitsLow = bitsPerWeight(opt.scheme()), bitsHigh = bitsPerWeight(high);
        for (int i = 0; i < n; i++) {
            String name = names.get(i);
            omega[i] = relErr.getOrDefault(name, 0.0);
            d[i] = LmEval.evaluate(SequentialQuantizer.decoder(file, Map.of(name, loT.get(name))), ref, calib, ctx).klMean();
            saved[i] = bitsHigh - bitsLow;
            progress.accept(String.format(Locale.ROOT, "mixed: %-26s alone at low bits: KLD %.5f", name, d[i]));
        }
        double[] score = MixedPrecision.scores(omega, d, 1, 1);
        MixedPrecision.Assignment a = MixedPrecision.search(new double[][] {null, score}, new double[][] {null, saved},
                target, formats -> {
                    try {
                        double kld = LmEval.evaluate(SequentialQuantizer.decoder(file, assemble(names, formats, loT, hiT)), ref, calib, ctx)
                                .klMean();
                        progress.accept(String.format(Locale.ROOT, "mixed: %d low -> KLD %.5f",
                                java.util.Arrays.stream(formats).filter(f -> f == 1).count(), kld));
                        return kld;
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
        Map<String, QuantizedLinear> chosen = new LinkedHashMap<>();
        int low = 0;
        for (int i = 0; i < n; i++) {
            boolean isLow = a.formats()[i] == 1;
            low += isLow ? 1 : 0;
            chosen.put(names.get(i), (isLow ? lo : hi).quantized().get(names.get(i)));
        }
        List<SequentialQuantizer.LayerReport> reports = new ArrayList<>();   // each linear's report from its chosen run
        for (int l = 0; l < lo.layers().size(); l++) {
            var a1 = lo.layers().get(l);
            var a2 = hi.layers().get(l);
            List<SequentialQuantizer.LinearReport> lin = new ArrayList<>();
            for (int k = 0; k < a1.linears().size(); k++) {
                var r1 = a1.linears().get(k);
                boolean isHigh = chosen.get(r1.name()) == hi.quantized().get(r1.name()) && r1.quantized();
                lin.add(isHigh ? a2.linears().get(k) : r1);
            }
            reports.add(new SequentialQuantizer.LayerReport(l, a1.seconds() + a2.seconds(),
                    a1.calibrationSeconds() + a2.calibrationSeconds(), lin));
        }
        SequentialQuantizer.Result r = new SequentialQuantizer.Result(chosen, Map.of(), reports, lo.calibrationTokens());
        return new Result(r, low, n, a.metric(), target, a.evaluations());
    }

    private static double bitsPerWeight(QuantScheme s) {
        var t = GgmlBlocks.typeOf(s);
        return 8.0 * t.blockBytes() / t.blockSize();
    }

    private static Map<String, Tensor> assemble(List<String> names, int[] formats, Map<String, Tensor> lo,
                                                Map<String, Tensor> hi) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            m.put(names.get(i), (formats[i] == 1 ? lo : hi).get(names.get(i)));
        }
        return m;
    }

    private static Map<String, Tensor> dequantized(Map<String, QuantizedLinear> q) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        q.forEach((k, v) -> m.put(k, Tensor.wrap(v.dequantize(), Shape.of(v.rows(), v.cols()))));
        return m;
    }
}
