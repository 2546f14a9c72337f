package dev.interlayer.models.quantize;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.CalibrationStats;
import dev.interlayer.quant.CalibrationTap;
import dev.interlayer.quant.Dense;
import dev.interlayer.quant.HessianAccumulator;
import dev.interlayer.quant.MixedPrecision;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The routed experts of a mixture-of-experts layer in {@link SequentialQuantizer}'s protocol: GGUF's 3-D expert
 * tensors {@code blk.L.ffn_gate_exps|ffn_up_exps|ffn_down_exps.weight [E, rows, cols]}, each expert quantized on its
 * own with the Hessian of the rows routed to it: {@code H_e = 2·X_eᵀX_e / N_e}, X_e the {@code N_e} calibration
 * tokens the router sends to expert e (the engine's {@link dev.interlayer.nn.LinearTap} reports them under the
 * expert's index; a decoder's calibration windows have no padding). Gate and up of one expert read one input and
 * share its H; down reads that expert's hidden activation {@code act(gate_e·x)⊙up_e·x}, computed with its already
 * quantized gate and up. One calibration pass through the layer (with everything quantized so far) collects every
 * expert's statistics of a site, in as many passes as the Hessians' memory needs (a quarter of the heap for one pass's Hessians).
 *
 * <p>An expert that receives no calibration token has no statistics: it is rounded to nearest on the same grid (RTN
 * with the scheme's clipping search, unweighted), reported in the linear's note. Other differences from the dense
 * sites, all because a routed expert sees a different token set in the quantized and the unquantized model: no error
 * propagation (its correction pairs the two models' rows token by token), and AWQ searches no input scale per expert
 * (the FFN norm also feeds the router and the other experts, so a per-expert scale has nowhere to fold): gate and up
 * take the one scale of all experts that {@link ExpertAwqScale} folded beforehand (their weights are then read scaled
 * from {@code replaced}), down none; here AWQ runs its clipping search only. The stacked result is one {@link
 * QuantizedLinear} {@code [E·rows, cols]} per tensor, expert-major: the byte layout of the GGUF tensor. Its reported
 * relative error is {@code Σ_e N_e·tr(ΔW_e H_e ΔW_eᵀ) / Σ_e N_e·tr(W_e H_e W_eᵀ)}, the output energy lost on the
 * routed tokens (experts without tokens add nothing to either sum).
 */
final class ExpertQuantizer {
    /** The expert tensors of each site (GGUF names without {@code blk.L.} and {@code .weight}). */
    static List<String> tensors(LinearSite site) {
        return switch (site) {
            case FFN_IN -> List.of("ffn_gate_exps", "ffn_up_exps");
            case FFN_DOWN -> List.of("ffn_down_exps");
            default -> List.of();
        };
    }

    private ExpertQuantizer() {
    }

    /**
     * Quantizes the routed experts of {@code site} in layer {@code l} (nothing if the layer has none). {@code block}
     * is layer l as a one-block stack serving the linears quantized so far; {@code x} the calibration stream's
     * hidden states entering it (null: RTN without calibration, or statistics from {@code imatrix}). Results go to
     * {@code quantized} (stacked, by tensor name), {@code replaced} (dequantized, the tensor's shape) and
     * {@code reports}. Returns the nanoseconds spent in calibration passes.
     */
    static long quantize(GgufFile file, int l, int n, LinearSite site, DecoderStack block, float[] x, int win,
                         Imatrix imatrix, SiteQuantizer.Options opt, Map<String, QuantScheme> schemes,
                         Map<String, QuantizedLinear> quantized, Map<String, Tensor> replaced,
                         List<SequentialQuantizer.LinearReport> reports, Consumer<String> progress) {
        List<String> names = new ArrayList<>();
        for (String t : tensors(site)) {
            String name = "blk." + l + "." + t + ".weight";
            if (file.contains(name) && file.tensor(name).rank() == 3) {
                names.add(name);
            }
        }
        if (names.isEmpty()) {
            return 0;
        }
        Tensor t0 = file.tensor(names.get(0));
        int experts = t0.dim(0), dIn = t0.dim(2), group = opt.scheme().groupSize();
        if (dIn % group != 0) {
            for (String name : names) {
                Tensor t = file.tensor(name);
                reports.add(new SequentialQuantizer.LinearReport(name, experts * t.dim(1), dIn, false, 0, 0, dIn
                        + " input columns are not a multiple of " + group + ": kept as " + file.dtype(name)));
                progress.accept(String.format("layer %d/%d %-16s kept (%d columns not a multiple of %d)", l + 1, n,
                        shortName(name), dIn, group));
            }
            return 0;
        }
        long s0 = System.nanoTime();
        List<float[]> w = new ArrayList<>();
        for (String name : names) {
            // the current weights: AWQ's joint MoE scale (ExpertAwqScale) has put the scaled gate and up there
            w.add((replaced.containsKey(name) ? replaced.get(name) : file.tensor(name).toF32()).toFloatArray());
        }
        List<List<QuantizedLinear>> parts = new ArrayList<>();
        names.forEach(k -> parts.add(new ArrayList<>()));
        double[] err = new double[names.size()], ref = new double[names.size()];
        long[] tokens = new long[experts];
        List<Integer> fallback = new ArrayList<>();
        int perPass = expertsPerPass(dIn, experts);
        long calibNanos = 0;
        for (int e0 = 0; e0 < experts; e0 += perPass) {
            int e1 = Math.min(experts, e0 + perPass);
            long c0 = System.nanoTime();
            Map<Integer, Stats> hs = x == null ? Map.of() : statistics(block, x, win, site, e0, e1);
            calibNanos += System.nanoTime() - c0;
            for (int e = e0; e < e1; e++) {
                Stats st = hs.get(e);
                double[] h = st == null ? null : st.hessian();
                double weight = st == null ? 1 : st.tokens();
                tokens[e] = st == null ? 0 : st.tokens();
                if (x == null && imatrix != null) {
                    h = imatrixHessian(imatrix, names, experts, dIn, e);
                }
                if (h == null && (x != null || imatrix != null)) {
                    fallback.add(e);
                }
                List<SiteQuantizer.Linear> linears = new ArrayList<>();
                for (int i = 0; i < names.size(); i++) {
                    int rows = file.tensor(names.get(i)).dim(1);
                    float[] we = java.util.Arrays.copyOfRange(w.get(i), e * rows * dIn, (e + 1) * rows * dIn);
                    linears.add(new SiteQuantizer.Linear(names.get(i), we, rows, dIn, 1));
                }
                SiteQuantizer.Options so = h == null ? plainRtn(opt) : opt.withAwqScales(false);
                double[] meanAbs = st != null ? st.meanAbs() : h == null ? null : rootMeanSquare(h, dIn);
                List<double[][]> none = new ArrayList<>(java.util.Collections.nCopies(linears.size(), (double[][]) null));
                List<QuantizedLinear> q = schemes.isEmpty()
                        ? SiteQuantizer.quantize(linears, dIn, h, meanAbs, none, so).weights()
                        : SequentialQuantizer.perLinear(linears, dIn, h, meanAbs, none, so, schemes).weights();
                for (int i = 0; i < names.size(); i++) {
                    parts.get(i).add(q.get(i));
                    if (h == null && (x != null || imatrix != null)) {
                        continue;             // no routed token: no output energy on the calibration set to lose
                    } else if (h == null) {   // RTN without calibration: the relative weight error (H = I), by ‖W‖²
                        double norm = 0;
                        for (float v : linears.get(i).w()) {
                            norm += (double) v * v;
                        }
                        err[i] += SiteQuantizer.relativeError(linears.get(i).w(), q.get(i), null) * norm;
                        ref[i] += norm;
                    } else {
                        err[i] += weight * MixedPrecision.hessianError(linears.get(i).w(), q.get(i), h);
                        ref[i] += weight * quadraticForm(linears.get(i), h);
                    }
                }
            }
        }
        double secs = (System.nanoTime() - s0 - calibNanos) / 1e9 / names.size();
        String note = fallback.isEmpty() ? "" : "experts " + fallback
                + " received no calibration token: rounded to nearest (not in the relative error)";
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            QuantizedLinear q = QuantizedLinear.stackRows(parts.get(i));
            double rel = ref[i] == 0 ? 0 : err[i] / ref[i];
            quantized.put(name, q);
            replaced.put(name, Tensor.wrap(q.dequantize(), file.tensor(name).shape()));
            reports.add(new SequentialQuantizer.LinearReport(name, q.rows(), q.cols(), true, rel, secs, note));
            progress.accept(String.format(Locale.ROOT, "layer %d/%d %-16s [%d x %d x %d] rel. error %.3e  %.2f s"
                            + "  tokens per expert %s%s", l + 1, n, shortName(name), experts, q.rows() / experts,
                    q.cols(), rel, secs, java.util.Arrays.toString(tokens), note.isEmpty() ? "" : "; " + note));
        }
        return calibNanos;
    }

    /**
     * One expert's statistics of a site's input, from its routed rows only.
     *
     * @param tokens  rows routed to it, N_e
     * @param hessian {@code 2·X_eᵀX_e / N_e} [dIn, dIn]
     * @param meanAbs mean |x| per input channel [dIn] (AWQ's statistic)
     */
    record Stats(long tokens, double[] hessian, double[] meanAbs) {
    }

    /**
     * Experts {@code [e0, e1)}'s statistics of {@code site}'s input when the calibration states {@code x} run through
     * {@code block} (a one-block stack), by expert index; an expert that received no token is absent.
     */
    static Map<Integer, Stats> statistics(DecoderStack block, float[] x, int win, LinearSite site, int e0, int e1) {
        Map<String, Integer> keys = new LinkedHashMap<>();
        for (int e = e0; e < e1; e++) {
            keys.put(CalibrationTap.name(0, site, e), e);
        }
        CalibrationStats stats = new CalibrationStats(true);
        Calibration.decoderBlocks(block, x, win, 64, (name, rows, m, d, keep) -> {
            if (keys.containsKey(name)) {
                stats.accept(name, rows, m, d, keep);
            }
        }, false);
        Map<Integer, Stats> out = new LinkedHashMap<>();
        keys.forEach((k, e) -> {
            if (stats.activations().containsKey(k) && stats.hessian(k).count() > 0) {
                HessianAccumulator h = stats.hessian(k);
                out.put(e, new Stats(h.count(), h.hessian(), stats.activations().get(k).meanAbs()));
            }
        });
        return out;
    }

    // Hessians of dIn² doubles each: as many experts per pass as fit in a quarter of the heap (at least one)
    private static int expertsPerPass(int dIn, int experts) {
        long each = 8L * dIn * dIn * 2;              // the accumulator and its symmetric copy
        long budget = Runtime.getRuntime().maxMemory() / 4;
        return (int) Math.max(1, Math.min(experts, budget / each));
    }

    // diag(2·E[x²]) of expert e from an importance matrix's per-expert entries (llama-imatrix: E·dIn values per
    // tensor, expert-major); null where the expert's entries are all zero (it saw no token)
    private static double[] imatrixHessian(Imatrix imatrix, List<String> names, int experts, int dIn, int e) {
        double[] all = imatrix.site(names, experts * dIn);
        double[] h = new double[dIn * dIn];
        boolean any = false;
        for (int j = 0; j < dIn; j++) {
            double v = all[e * dIn + j];
            h[j * dIn + j] = 2 * v;
            any |= v > 0;
        }
        return any ? h : null;
    }

    // AWQ's statistic from a diagonal H of an importance matrix, sqrt(E[x²]) = sqrt(H_jj / 2), as the dense sites
    private static double[] rootMeanSquare(double[] h, int dIn) {
        double[] m = new double[dIn];
        for (int j = 0; j < dIn; j++) {
            m[j] = Math.sqrt(h[j * dIn + j] / 2);
        }
        return m;
    }

    // the options as plain round-to-nearest on the same grid (an expert without statistics)
    private static SiteQuantizer.Options plainRtn(SiteQuantizer.Options o) {
        return new SiteQuantizer.Options(SiteQuantizer.Method.RTN, o.scheme(), o.gptq(), o.aespa(), false,
                o.awqObjective(), o.awqJointClip(), o.awqGroup(), false, o.awqTwoSidedClip());
    }

    private static double quadraticForm(SiteQuantizer.Linear lin, double[] h) {
        float[] w = lin.w();
        int cols = lin.cols();
        return Dense.sumOfQuadraticForms((r0, m, dst) -> {
            for (int i = 0; i < m * cols; i++) {
                dst[i] = w[r0 * cols + i];
            }
        }, lin.rows(), cols, h);
    }

    private static String shortName(String name) {
        return name.substring(name.indexOf('.', 4) + 1, name.length() - 7);
    }
}
