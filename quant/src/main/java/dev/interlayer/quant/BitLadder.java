package dev.interlayer.quant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Mixed precision over a ladder of formats (e.g. Q8_0, Q5_0, Q4_0, 3-bit, 2-bit): which format each layer gets,
 * for a bound on the average bits per weight or on the model's quality loss. Schaefer et al., "Augmenting
 * Hessians with Inter-Layer Dependencies for Mixed-Precision Post-Training Quantization" (arXiv 2306.04879)
 * score each layer's sensitivity to a format; here {@code cost[ℓ][f]} is that score (lower is better, e.g.
 * {@link MixedPrecision#scores} of the Hessian error and the measured KL divergence with only layer ℓ at
 * format f) and {@code bits[ℓ][f]} the exact storage of layer ℓ at format f (codes, scales, zeros), NaN where
 * the format does not fit the layer (e.g. a 256-value super-block on 64-column rows). Format 0 must fit every
 * layer; formats are in any order of bits.
 *
 * <p><b>The sensitivity path.</b> Starting with every layer at format 0, each step moves one layer to a format
 * with fewer bits, the move with the smallest added cost per bit saved,
 * <pre>  argmin_{ℓ, g: bits[ℓ][g] &lt; bits[ℓ][f_ℓ]}  (cost[ℓ][g] − cost[ℓ][f_ℓ]) / (bits[ℓ][f_ℓ] − bits[ℓ][g])</pre>
 * (moves may skip rungs; ties to the lower layer, then the lower format index), until no layer can go lower.
 * This is the greedy solution of the multiple-choice knapsack "least Σ cost at ≤ B bits" under the additive
 * model Σ_ℓ cost[ℓ][f_ℓ]: along the path the bits fall strictly and, when each layer's costs are convex in its
 * bits, every point is optimal for its own budget. Both modes walk this one path:
 * <ul>
 *   <li>{@link #atBits}: the first point within the bit budget, then single-layer upgrades that still fit
 *       (largest cost reduction first): no evaluation of the model is needed;</li>
 *   <li>{@link #atBound}: bisection over the path for the lowest-bit point whose evaluated metric is within the
 *       bound ({@link MixedPrecision#largestPrefix}; assumes the metric grows along the path, which the additive
 *       model predicts; the bound is always checked on a real evaluation, never predicted), optionally followed by
 *       single-layer moves off the path that close the gap to the bound.</li>
 * </ul>
 */
public final class BitLadder {
    private BitLadder() {
    }

    /**
     * An assignment and what it costs.
     *
     * @param formats     [layers] format index per layer
     * @param bits        total storage bits of the layers
     * @param metric      the evaluated metric (NaN if not evaluated)
     * @param evaluations evaluator calls made to find it
     */
    public record Choice(int[] formats, double bits, double metric, int evaluations) {
        /** Average bits per weight over {@code weights} parameters. */
        public double bitsPerWeight(double weights) {
            return bits / weights;
        }
    }

    /**
     * The sensitivity path: element 0 is all layers at format 0, each next element one layer moved lower.
     *
     * @throws IllegalArgumentException if the shapes differ or format 0 does not fit a layer
     */
    public static List<int[]> path(double[][] cost, double[][] bits) {
        int layers = check(cost, bits);
        int[] cur = new int[layers];
        List<int[]> path = new ArrayList<>();
        path.add(cur.clone());
        while (true) {
            int bestL = -1, bestG = -1;
            double best = Double.POSITIVE_INFINITY;
            for (int l = 0; l < layers; l++) {
                for (int g = 0; g < bits[l].length; g++) {
                    double saved = bits[l][cur[l]] - bits[l][g];
                    if (Double.isNaN(bits[l][g]) || !(saved > 0)) {
                        continue;
                    }
                    double ratio = (cost[l][g] - cost[l][cur[l]]) / saved;
                    if (ratio < best) {
                        best = ratio;
                        bestL = l;
                        bestG = g;
                    }
                }
            }
            if (bestL < 0) {
                return path;
            }
            cur[bestL] = bestG;
            path.add(cur.clone());
        }
    }

    /** Total storage bits of {@code formats}. */
    public static double totalBits(double[][] bits, int[] formats) {
        double s = 0;
        for (int l = 0; l < formats.length; l++) {
            s += bits[l][formats[l]];
        }
        return s;
    }

    /**
     * The assignment for at most {@code budget} total bits: the first point of {@link #path} within it, then
     * repeatedly the single-layer move to a format with more bits that stays within the budget and lowers the
     * additive cost most (the path's last step may undershoot the budget by up to one layer's saving; this
     * spends what is left). No evaluation.
     *
     * @throws IllegalArgumentException if even the path's last point (every layer at its fewest bits) exceeds it
     */
    public static Choice atBits(double[][] cost, double[][] bits, double budget) {
        List<int[]> path = path(cost, bits);
        int[] cur = null;
        for (int[] p : path) {
            if (totalBits(bits, p) <= budget) {
                cur = p.clone();
                break;
            }
        }
        if (cur == null) {
            throw new IllegalArgumentException("BitLadder.atBits: " + budget + " bits is below the fewest the ladder"
                    + " reaches (" + totalBits(bits, path.get(path.size() - 1)) + ")");
        }
        double total = totalBits(bits, cur);
        while (true) {
            int bestL = -1, bestG = -1;
            double best = 0;
            for (int l = 0; l < cur.length; l++) {
                for (int g = 0; g < bits[l].length; g++) {
                    double extra = bits[l][g] - bits[l][cur[l]];
                    double gain = cost[l][cur[l]] - cost[l][g];
                    if (!Double.isNaN(bits[l][g]) && extra > 0 && total + extra <= budget && gain > best) {
                        best = gain;
                        bestL = l;
                        bestG = g;
                    }
                }
            }
            if (bestL < 0) {
                return new Choice(cur, total, Double.NaN, 0);
            }
            total += bits[bestL][bestG] - bits[bestL][cur[bestL]];
            cur[bestL] = bestG;
        }
    }

    /**
     * The point of {@link #path} with the fewest bits whose evaluated metric is {@code ≤ bound} (bisection, at most
     * {@code ⌈log₂(n)⌉ + 1} evaluations for a path of n + 1 points, plus one for the reported metric when only
     * the start fits). The start (every layer at format 0) is taken as within the bound without evaluating it.
     */
    public static Choice atBound(double[][] cost, double[][] bits, double bound, MixedPrecision.Evaluator eval) {
        List<int[]> path = path(cost, bits);
        double[] seen = new double[path.size()];
        Arrays.fill(seen, Double.NaN);
        int[] evals = {0};
        int k = MixedPrecision.largestPrefix(path.size() - 1, i -> {
            evals[0]++;
            seen[i] = eval.metric(path.get(i).clone());
            return seen[i] <= bound;
        });
        if (Double.isNaN(seen[k])) {
            evals[0]++;
            seen[k] = eval.metric(path.get(k).clone());
        }
        return new Choice(path.get(k).clone(), totalBits(bits, path.get(k)), seen[k], evals[0]);
    }

    /**
     * {@link #atBound}, then closing the gap to the bound from below: while the chosen point's metric {@code m} is
     * below {@code band · bound} (e.g. 0.9: "within 10 %"), single-layer moves to fewer bits away from the path are
     * evaluated, each kept if the metric stays {@code ≤ bound}, at most {@code extraEvaluations} of them. The path
     * moves one layer per step, so its next point can overshoot the bound by a whole layer's worth (a large layer
     * moved to a low rung) while smaller moves would still fit. Candidates are the moves (ℓ, g) from the current
     * assignment with the least added cost per bit saved, {@code Δc = cost[ℓ][g] − cost[ℓ][f_ℓ]}, restricted to
     * {@code Δc} below the smallest {@code Δc} seen to overshoot (the path's next step, then every rejected move):
     * under the additive model a move that adds at least as much cost overshoots too, so with an additive metric the
     * result is within the band, or every single-layer move from it overshoots, or the evaluations ran out. The result
     * never has more bits than {@link #atBound}'s and its metric is always an evaluation {@code ≤ bound} (unless the
     * path's start already exceeds it, which is returned as {@link #atBound} returns it).
     */
    public static Choice atBound(double[][] cost, double[][] bits, double bound, double band, int extraEvaluations,
                                 MixedPrecision.Evaluator eval) {
        if (!(band >= 0 && band <= 1) || extraEvaluations < 0) {
            throw new IllegalArgumentException("BitLadder.atBound: band " + band + " (need 0..1), extra evaluations "
                    + extraEvaluations + " (need >= 0)");
        }
        List<int[]> path = path(cost, bits);
        Choice c = atBound(cost, bits, bound, eval);
        int k = indexOf(path, c.formats());
        if (!(c.metric() <= bound) || !(c.metric() < band * bound) || k + 1 >= path.size()) {
            return c;
        }
        int[] cur = c.formats().clone();
        double metric = c.metric(), total = c.bits();
        // the path's next step evaluated over the bound (the bisection tested it): the first overshooting cost
        double limit = totalBits(cost, path.get(k + 1)) - totalBits(cost, cur);
        Set<List<Integer>> rejected = new HashSet<>();   // (layer, from, to) seen to overshoot
        int extra = 0;
        while (metric < band * bound && extra < extraEvaluations) {
            int bestL = -1, bestG = -1;
            double best = Double.POSITIVE_INFINITY, bestDc = 0;
            for (int l = 0; l < cur.length; l++) {
                for (int g = 0; g < bits[l].length; g++) {
                    double saved = bits[l][cur[l]] - bits[l][g], dc = cost[l][g] - cost[l][cur[l]];
                    if (Double.isNaN(bits[l][g]) || !(saved > 0) || !(dc < limit)
                            || rejected.contains(List.of(l, cur[l], g))) {
                        continue;
                    }
                    if (dc / saved < best) {
                        best = dc / saved;
                        bestL = l;
                        bestG = g;
                        bestDc = dc;
                    }
                }
            }
            if (bestL < 0) {
                break;
            }
            int[] next = cur.clone();
            next[bestL] = bestG;
            double m = eval.metric(next.clone());
            extra++;
            if (m <= bound) {
                total -= bits[bestL][cur[bestL]] - bits[bestL][bestG];
                cur = next;
                metric = m;
            } else {
                rejected.add(List.of(bestL, cur[bestL], bestG));
                limit = Math.min(limit, bestDc);
            }
        }
        return new Choice(cur, total, metric, c.evaluations() + extra);
    }

    private static int indexOf(List<int[]> path, int[] formats) {
        for (int i = path.size() - 1; i >= 0; i--) {
            if (Arrays.equals(path.get(i), formats)) {
                return i;
            }
        }
        throw new IllegalStateException("BitLadder: the bisection's choice is not a point of the path");
    }

    private static int check(double[][] cost, double[][] bits) {
        if (cost.length != bits.length) {
            throw new IllegalArgumentException("BitLadder: cost has " + cost.length + " layers, bits " + bits.length);
        }
        for (int l = 0; l < cost.length; l++) {
            if (cost[l].length != bits[l].length || bits[l].length == 0) {
                throw new IllegalArgumentException("BitLadder: layer " + l + " has " + cost[l].length + " costs and "
                        + bits[l].length + " bit counts (need the same number >= 1)");
            }
            if (Double.isNaN(bits[l][0])) {
                throw new IllegalArgumentException("BitLadder: format 0 (the highest) must fit every layer; layer " + l
                        + " has no bit count for it");
            }
        }
        return cost.length;
    }
}
