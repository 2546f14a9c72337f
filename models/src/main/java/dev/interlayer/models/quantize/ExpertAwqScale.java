package dev.interlayer.models.quantize;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufTensorInfo;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.nn.LinearTap;
import dev.interlayer.quant.Awq;
import dev.interlayer.quant.AwqRouted;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.CalibrationStats;
import dev.interlayer.quant.CalibrationTap;
import dev.interlayer.quant.HessianAccumulator;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.quant.Rtn;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * AWQ's input scale of a mixture-of-experts layer's FFN input, searched jointly for all its readers as llm-awq /
 * AutoAWQ do for Mixtral (Lin et al., "AWQ", MLSys 2024): the FFN norm's output {@code u} feeds the router
 * ({@code ffn_gate_inp}), every routed expert's gate and up and, in Qwen2-MoE, the shared expert's gate and up and
 * its sigmoid gate ({@code ffn_gate_inp_shexp}). One per-channel scale {@code s} of u is chosen on AWQ's grid
 * {@code s = max(ū^α, 1e-4)/sqrt(max·min)}, {@code ū_j = mean_t |u_tj|} over all calibration tokens, by the
 * objective {@link AwqRouted#outputError}: {@code Σ_e N_e·Σ_{W∈{gate_e, up_e}}
 * tr(ΔW·H_e·ΔWᵀ)} over the experts with their routed tokens' Hessians {@code H_e = 2·X_eᵀX_e/N_e} (plus the shared
 * expert's gate and up on every token), each candidate rounding {@code W·diag(s)} to nearest without clipping
 * (llm-awq clips afterwards). α = 0 (s = 1) is on the grid, so the chosen loss never exceeds scale 1's. With
 * {@code --awq-objective block} or {@code block-float} the candidates are scored on the layer's output instead, as
 * llm-awq's {@code auto_scale} does ({@link ExpertAwqBlockObjective}); linear-float scores as linear here.
 *
 * <p>The fold: the norm gain {@code g_j / s_j}, and column j of every reader times {@code s_j} (the router and the
 * shared expert's gate stay float32 and unquantized), so the router's logits {@code (W_r·diag(s))·(u/s) = W_r·u} and
 * every expert's input products are unchanged in exact arithmetic. The experts and the shared expert are then
 * quantized from the scaled weights on the statistics of the scaled input by the usual path (AWQ's clipping search
 * with scale 1 there). Not folded (scale 1, the experts' clipping search only): a layer whose FFN has any tensor
 * besides these (a norm bias, a dense FFN beside the experts), input columns that are not a multiple of the block,
 * or all experts' Hessians larger than a quarter of the heap (one pass holds them all).
 */
final class ExpertAwqScale {
    /** The layer's FFN tensors this fold knows (GGUF names without {@code blk.L.} and {@code .weight}). */
    static final Set<String> KNOWN = Set.of("ffn_norm", "ffn_gate_inp", "ffn_gate_exps", "ffn_up_exps",
            "ffn_down_exps", "ffn_gate_inp_shexp", "ffn_gate_shexp", "ffn_up_shexp", "ffn_down_shexp");
    private static final List<String> ROUTED = List.of("ffn_gate_exps", "ffn_up_exps");
    private static final List<String> SHARED = List.of("ffn_gate_shexp", "ffn_up_shexp");

    /**
     * A search's outcome.
     *
     * @param scales    s [dIn]
     * @param alpha     the chosen exponent
     * @param loss      the objective at s
     * @param lossAtOne the objective at s = 1 (round to nearest of the unscaled weights)
     */
    record Search(double[] scales, double alpha, double loss, double lossAtOne) {
    }

    private ExpertAwqScale() {
    }

    /**
     * Searches and folds the FFN input scale of layer {@code l} if it is a mixture-of-experts layer that can take it
     * ({@code block}: the layer as a one-block stack serving {@code replaced}; {@code x}: the calibration states
     * entering it). Folded tensors go to {@code replaced} (all) and {@code changedF32} (the norm, the router and the
     * shared gate, which stay float); the readers to be quantized get their scaled float weights in {@code replaced}.
     * Returns the search, or null if nothing was folded.
     */
    static Search run(GgufFile file, int l, int n, DecoderStack block, float[] x, float[] xf, int win,
                      QuantScheme scheme, SiteQuantizer.AwqObjective kind, Map<String, Tensor> replaced,
                      Map<String, Tensor> changedF32, Consumer<String> progress) {
        String p = "blk." + l + ".";
        if (!file.contains(p + "ffn_gate_exps.weight") || file.tensor(p + "ffn_gate_exps.weight").rank() != 3) {
            return null;
        }
        int experts = file.tensor(p + "ffn_gate_exps.weight").dim(0), dIn = file.tensor(p + "ffn_gate_exps.weight").dim(2);
        String why = refusal(file, l, dIn, scheme.groupSize(), experts);
        if (why != null) {
            progress.accept(String.format("layer %d/%d ffn_norm         expert input scale 1: %s", l + 1, n, why));
            return null;
        }
        Map<String, Integer> keys = new java.util.LinkedHashMap<>();
        for (int e = 0; e < experts; e++) {
            keys.put(CalibrationTap.name(0, LinearSite.FFN_IN, e), e);
        }
        boolean shared = file.contains(p + "ffn_gate_shexp.weight");
        keys.put(CalibrationTap.name(0, LinearSite.FFN_IN, LinearTap.SHARED_EXPERT), -1);
        CalibrationStats stats = new CalibrationStats(true);
        Calibration.decoderBlocks(block, x, win, 64, (name, rows, m, d, keep) -> {
            if (keys.containsKey(name)) {
                stats.accept(name, rows, m, d, keep);
            }
        }, false);
        List<float[]> ws = new ArrayList<>();
        List<double[]> hs = new ArrayList<>();
        List<Integer> rows = new ArrayList<>();
        List<Double> tokens = new ArrayList<>();
        List<String> names = new ArrayList<>();             // each scored linear's tensor and expert (−1: 2-D)
        List<Integer> index = new ArrayList<>();
        double[] meanAbs = new double[dIn];
        long routed = 0;
        // each reader tensor widened to float once, then sliced per expert (not once per expert: E copies of a
        // whole [E, rows, dIn] tensor)
        Map<String, float[]> widened = new java.util.HashMap<>();
        for (var k : keys.entrySet()) {
            int e = k.getValue();
            if (!stats.activations().containsKey(k.getKey()) || stats.hessian(k.getKey()).count() == 0) {
                continue;                                // no token: nothing of it in the objective
            }
            HessianAccumulator h = stats.hessian(k.getKey());
            if (e >= 0) {                                // every token reaches the same number of experts
                double[] m = stats.activations().get(k.getKey()).meanAbs();
                for (int j = 0; j < dIn; j++) {
                    meanAbs[j] += h.count() * m[j];
                }
                routed += h.count();
            } else if (!shared) {
                continue;
            }
            for (String t : e >= 0 ? ROUTED : SHARED) {
                var info = file.tensor(p + t + ".weight");          // shape only, nothing read
                int r = e >= 0 ? info.dim(1) : info.dim(0);
                float[] all = widened.computeIfAbsent(t, key -> current(file, replaced, p + key + ".weight")
                        .toFloatArray());
                ws.add(e >= 0 ? Arrays.copyOfRange(all, e * r * dIn, (e + 1) * r * dIn) : all);
                hs.add(h.hessian());
                rows.add(r);
                tokens.add((double) h.count());
                names.add(p + t + ".weight");
                index.add(e);
            }
        }
        if (routed == 0) {
            return null;
        }
        for (int j = 0; j < dIn; j++) {
            meanAbs[j] /= routed;
        }
        boolean onOutput = kind == SiteQuantizer.AwqObjective.BLOCK || kind == SiteQuantizer.AwqObjective.BLOCK_FLOAT;
        Awq.Objective objective = onOutput ? new ExpertAwqBlockObjective(file, replaced, l, x,
                kind == SiteQuantizer.AwqObjective.BLOCK_FLOAT ? xf : null, win, names, index) : null;
        Search s = search(ws, rows.stream().mapToInt(Integer::intValue).toArray(), hs,
                tokens.stream().mapToDouble(Double::doubleValue).toArray(), dIn, meanAbs, scheme, Awq.Options.DEFAULT,
                objective);
        fold(file, l, s.scales(), replaced, changedF32);
        progress.accept(String.format(Locale.ROOT, "layer %d/%d ffn_norm         expert input scale: α %.2f, loss %.4e"
                + " (scale 1: %.4e) over %d experts%s%s", l + 1, n, s.alpha(), s.loss(), s.lossAtOne(), experts,
                shared ? " and the shared expert" : "", onOutput ? ", on the layer output" : ""));
        return s;
    }

    /**
     * AWQ's grid search of one input scale for linears {@code ws[i] [rows[i], dIn]} that read one input, linear i on
     * rows with Hessian {@code hs[i]} ({@code tokens[i]} of them), with the statistic {@code meanAbs} of all rows:
     * {@link Awq#quantize} scored by {@link AwqRouted#outputError} (or by {@code block}, if not
     * null: {@link ExpertAwqBlockObjective}), no clipping.
     */
    static Search search(List<float[]> ws, int[] rows, List<double[]> hs, double[] tokens, int dIn, double[] meanAbs,
                         QuantScheme scheme, Awq.Options opt, Awq.Objective block) {
        Awq.Objective objective = block != null ? block : AwqRouted.outputError(ws, rows, hs, tokens);
        double[] pooled = new double[dIn * dIn];
        double total = Arrays.stream(tokens).sum();
        for (int i = 0; i < hs.size(); i++) {
            for (int k = 0; k < pooled.length; k++) {
                pooled[k] += tokens[i] / total * hs.get(i)[k];
            }
        }
        Awq.Result r = Awq.quantize(ws, rows, dIn, meanAbs, pooled, scheme, opt.withClip(false), objective);
        double[] one = new double[dIn];
        Arrays.fill(one, 1);
        List<QuantizedLinear> rtn = new ArrayList<>();
        for (int i = 0; i < ws.size(); i++) {
            rtn.add(Rtn.quantize(ws.get(i), rows[i], dIn, scheme));
        }
        return new Search(r.inputScales(), r.alpha(), r.loss(), objective.loss(one, rtn));
    }

    /**
     * Folds {@code s} into layer {@code l}: the FFN norm gain divided by it, column j of the router, the shared
     * gate, the routed experts' gate and up and the shared expert's gate and up multiplied by {@code s_j}
     * (float32 of the double products). Reads the current values from {@code replaced} (else the file).
     */
    static void fold(GgufFile file, int l, double[] s, Map<String, Tensor> replaced, Map<String, Tensor> changedF32) {
        String p = "blk." + l + ".";
        scale(file, p + "ffn_norm.weight", s, true, replaced, changedF32);
        scale(file, p + "ffn_gate_inp.weight", s, false, replaced, changedF32);
        scale(file, p + "ffn_gate_inp_shexp.weight", s, false, replaced, changedF32);
        for (String t : List.of("ffn_gate_exps", "ffn_up_exps", "ffn_gate_shexp", "ffn_up_shexp")) {
            scale(file, p + t + ".weight", s, false, replaced, null);
        }
    }

    // column j (the innermost index) of `name` divided or multiplied by s[j]; absent tensors are skipped
    private static void scale(GgufFile file, String name, double[] s, boolean divide, Map<String, Tensor> replaced,
                              Map<String, Tensor> changedF32) {
        if (!file.contains(name)) {
            return;
        }
        Tensor cur = current(file, replaced, name);
        float[] w = cur.toFloatArray();
        int d = s.length;
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (divide ? w[i] / s[i % d] : w[i] * s[i % d]);
        }
        Tensor t = Tensor.wrap(w, cur.shape());
        replaced.put(name, t);
        if (changedF32 != null) {
            changedF32.put(name, t);
        }
    }

    private static Tensor current(GgufFile file, Map<String, Tensor> replaced, String name) {
        return replaced.containsKey(name) ? replaced.get(name) : file.tensor(name).toF32();
    }

    // why layer l's FFN input cannot take a folded scale (null if it can)
    private static String refusal(GgufFile file, int l, int dIn, int group, int experts) {
        String p = "blk." + l + ".";
        if (dIn % group != 0) {
            return dIn + " input columns are not a multiple of " + group;
        }
        for (GgufTensorInfo t : file.tensorInfos()) {
            String name = t.name();
            if (name.startsWith(p + "ffn_") && !(name.endsWith(".weight")
                    && KNOWN.contains(name.substring(p.length(), name.length() - 7)))) {
                return "the FFN input also feeds " + name;
            }
        }
        String norm = p + "ffn_norm.weight";
        if (!file.contains(norm) || file.tensor(norm).size() != dIn || !file.contains(p + "ffn_gate_inp.weight")) {
            return "no FFN norm gain of " + dIn + " channels or no router";
        }
        long bytes = 16L * dIn * dIn * (experts + 1);    // each Hessian and its symmetric copy
        if (bytes > Runtime.getRuntime().maxMemory() / 4) {
            return "the experts' Hessians (" + (bytes >> 20) + " MiB) exceed a quarter of the heap";
        }
        return null;
    }
}
