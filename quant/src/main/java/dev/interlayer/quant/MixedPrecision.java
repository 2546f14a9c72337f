package dev.interlayer.quant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Mixed-precision assignment after Schaefer et al., "Augmenting Hessians with Inter-Layer Dependencies for
 * Mixed-Precision Post-Training Quantization" (arXiv 2306.04879): each layer's sensitivity to a lower format
 * combines its local Hessian error {@code Ω_ℓ = tr(ΔW_ℓ·H_ℓ·ΔW_ℓᵀ)} with its measured effect on the model
 * output {@code D_ℓ} (quantize only layer ℓ, measure KL divergence or 1 − cosine), each normalised to mean 1:
 * {@code S_ℓ = wΩ·Ω̃_ℓ + wD·D̃_ℓ}. Layers are ordered by {@code S_ℓ / bits saved}, and a bisection finds the
 * largest prefix of that order that can take the lower format while a full evaluation stays within the
 * user's bound (assuming the metric grows with the prefix; the bound is always checked, never predicted).
 * With several formats the lowest is assigned first, then the next on the remaining layers.
 */
public final class MixedPrecision {
    private MixedPrecision() {
    }

    /** Evaluates the model quality metric (lower is better, e.g. KL divergence) for an assignment. */
    @FunctionalInterface
    public interface Evaluator {
        /** {@code formats[ℓ]} = index of layer ℓ's format, 0 = the reference (unquantized or highest) format. */
        double metric(int[] formats);
    }

    /**
     * A finished search.
     *
     * @param formats     [layers] chosen format index per layer
     * @param metric      the evaluated metric of {@code formats} (within the bound)
     * @param evaluations evaluator calls made
     */
    public record Assignment(int[] formats, double metric, int evaluations) {
    }

    /**
     * {@code S_ℓ = wOmega·Ω_ℓ/mean(Ω) + wD·D_ℓ/mean(D)} (a term whose mean is 0 contributes 0).
     *
     * @throws IllegalArgumentException if the arrays differ in length
     */
    public static double[] scores(double[] omega, double[] d, double wOmega, double wD) {
        if (omega.length != d.length) {
            throw new IllegalArgumentException("MixedPrecision.scores: Ω has " + omega.length + " layers, D has " + d.length);
        }
        double mo = mean(omega), md = mean(d);
        double[] s = new double[omega.length];
        for (int l = 0; l < s.length; l++) {
            s[l] = (mo == 0 ? 0 : wOmega * omega[l] / mo) + (md == 0 ? 0 : wD * d[l] / md);
        }
        return s;
    }

    /** Layer indices by ascending {@code score/bitsSaved} (cheapest to quantize first; ties by index). */
    public static int[] order(double[] score, double[] bitsSaved) {
        Integer[] idx = new Integer[score.length];
        for (int l = 0; l < idx.length; l++) {
            idx[l] = l;
        }
        Arrays.sort(idx, Comparator.comparingDouble((Integer l) -> score[l] / bitsSaved[l]));
        return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
    }

    /**
     * Assigns formats {@code 1 … levels−1} (higher index = fewer bits) to layers so that the metric stays
     * {@code ≤ bound}. {@code scoresByFormat[f]} [layers] are the sensitivity scores for format f (index 0 unused)
     * and {@code bitsSavedByFormat[f]} the bits saved per layer relative to format 0. The lowest format is
     * bisected first over all layers, then each higher one over the layers still at format 0. Uses at most
     * {@code ⌈log₂(n)⌉ + 1} evaluations per level (n = layers left), plus one for the final metric when
     * nothing was accepted.
     */
    public static Assignment search(double[][] scoresByFormat, double[][] bitsSavedByFormat, double bound, Evaluator eval) {
        int levels = scoresByFormat.length, layers = levels > 1 ? scoresByFormat[1].length : 0;
        int[] formats = new int[layers];
        int[] evals = {0};
        for (int f = levels - 1; f >= 1; f--) {
            List<Integer> free = new ArrayList<>();
            for (int l : order(scoresByFormat[f], bitsSavedByFormat[f])) {
                if (formats[l] == 0) {
                    free.add(l);
                }
            }
            int level = f;
            java.util.function.IntPredicate ok = k -> {
                int[] trial = formats.clone();
                for (int i = 0; i < k; i++) {
                    trial[free.get(i)] = level;
                }
                evals[0]++;
                return eval.metric(trial) <= bound;
            };
            int k = largestPrefix(free.size(), ok);
            for (int i = 0; i < k; i++) {
                formats[free.get(i)] = f;
            }
        }
        evals[0]++;
        double metric = eval.metric(formats.clone());
        return new Assignment(formats, metric, evals[0]);
    }

    /**
     * The largest {@code k ∈ [0, n]} with {@code ok(k)}, assuming {@code ok} is true up to some k and false
     * after (k = 0 is taken as true and not evaluated). At most {@code ⌈log₂(n)⌉ + 1} calls.
     */
    public static int largestPrefix(int n, java.util.function.IntPredicate ok) {
        if (n == 0 || ok.test(n)) {
            return n;
        }
        int lo = 0, hi = n;                            // ok(lo) holds, ok(hi) fails
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (ok.test(mid)) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Spearman rank correlation of two score vectors (average ranks for ties), the paper's diagnostic. */
    public static double spearman(double[] a, double[] b) {
        if (a.length != b.length || a.length < 2) {
            throw new IllegalArgumentException("MixedPrecision.spearman: need two vectors of equal length >= 2, got "
                    + a.length + " and " + b.length);
        }
        double[] ra = ranks(a), rb = ranks(b);
        double ma = mean(ra), mb = mean(rb), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (ra[i] - ma) * (rb[i] - mb);
            saa += (ra[i] - ma) * (ra[i] - ma);
            sbb += (rb[i] - mb) * (rb[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }

    private static double[] ranks(double[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.comparingDouble((Integer i) -> v[i]));
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; ) {
            int j = i;
            while (j + 1 < v.length && v[idx[j + 1]] == v[idx[i]]) {
                j++;
            }
            for (int k = i; k <= j; k++) {
                r[idx[k]] = (i + j) / 2.0;
            }
            i = j + 1;
        }
        return r;
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return v.length == 0 ? 0 : s / v.length;
    }

    /**
     * The layer-local Hessian term {@code Ω = tr((W − Ŵ)·H·(W − Ŵ)ᵀ)} of one quantized layer.
     * Shapes: {@code w [rows, cols]}, {@code h [cols, cols]}.
     */
    public static double hessianError(float[] w, QuantizedLinear q, double[] h) {
        Shapes.checkMatrix("MixedPrecision.hessianError", w.length, q.rows(), q.cols());
        Shapes.checkSquare("MixedPrecision.hessianError", h.length, q.cols());
        int cols = q.cols();
        // row blocks of ΔW are formed on demand: no double copy of the whole weight
        return Dense.sumOfQuadraticForms((r0, m, dst) -> {
            for (int r = r0; r < r0 + m; r++) {
                for (int c = 0; c < cols; c++) {
                    dst[(r - r0) * cols + c] = w[r * cols + c] - q.value(r, c);
                }
            }
        }, q.rows(), cols, h);
    }
}
