package dev.interlayer.nn.moe;

import dev.interlayer.nn.readout.LogSoftmax;

import java.util.Arrays;

/**
 * Router statistics of the last call of one MoE layer, over its N tokens: c_e (token slots
 * per expert, Σ c_e = k·N), P_e (mean router probability), mean entropy H = −Σ_e s_e log s_e, and
 * the load-balancing loss E·Σ_e f_e·P_e with f_e = c_e/(k·N) (Fedus et al. 2022, "Switch Transformers").
 * Collecting them does not change the layer output. Mutable: overwritten by every call; one thread owns it.
 *
 * <p>Also, for every router of {@link RoutedMoe}: the HF Mixtral/Qwen auxiliary loss k·L_aux, the ST-MoE router
 * z-loss (Zoph et al. 2022), MaxVio (Wang et al. 2024, "Auxiliary-Loss-Free Load Balancing"), the coefficient of
 * variation of c_e, the dropped-assignment rate under a capacity limit, and the fraction of tokens whose top-1
 * expert equals the previous MoE layer's. These are computed, never trained. For sigmoid routers the scores are
 * normalized to sum to 1 first; hash routing counts as a one-hot score and has no z-loss.
 */
public final class RouterStats {
    private final int[] counts;     // [E]
    private final double[] probSum; // [E]
    private final double[] softmaxSum; // [E] Σ_t softmax(z_t)_e
    private double topK;
    private int tokens;
    private double entropySum;
    private double zSquaredSum;    // Σ_t (logsumexp z_t)²
    private boolean hasLogits;
    private int dropped;           // assignments removed by a capacity limit
    private int sameTop1;          // tokens whose top-1 equals the previous MoE layer's
    private int top1Compared;      // tokens compared with a previous MoE layer (0 for the first MoE layer)

    RouterStats(int experts, int topK) {
        this.counts = new int[experts];
        this.probSum = new double[experts];
        this.softmaxSum = new double[experts];
        this.topK = topK;
    }

    void reset() {
        Arrays.fill(counts, 0);
        Arrays.fill(probSum, 0);
        Arrays.fill(softmaxSum, 0);
        tokens = 0;
        entropySum = 0;
        zSquaredSum = 0;
        hasLogits = false;
        dropped = 0;
        sameTop1 = 0;
        top1Compared = 0;
    }

    /**
     * An empty running total for E experts, e.g. of one layer over a whole generation: feed it every call's
     * statistics with {@link #add(RouterStats)} (a layer's statistics are overwritten by each call).
     */
    public static RouterStats total(int experts) {
        return new RouterStats(experts, 0);
    }

    /**
     * Adds another call's statistics (same E) to this total: counts, probability and entropy sums, z-loss terms,
     * drops and top-1 comparisons add up; k becomes the token-weighted mean of the calls' k.
     *
     * @throws IllegalArgumentException if the expert counts differ
     */
    public void add(RouterStats call) {
        if (call.counts.length != counts.length) {
            throw new IllegalArgumentException("RouterStats.add: " + counts.length + " experts vs " + call.counts.length);
        }
        if (call.tokens == 0) {
            return;
        }
        topK = (topK * tokens + call.topK * call.tokens) / (tokens + call.tokens);
        for (int e = 0; e < counts.length; e++) {
            counts[e] += call.counts[e];
            probSum[e] += call.probSum[e];
            softmaxSum[e] += call.softmaxSum[e];
        }
        tokens += call.tokens;
        entropySum += call.entropySum;
        zSquaredSum += call.zSquaredSum;
        hasLogits |= call.hasLogits;
        dropped += call.dropped;
        sameTop1 += call.sameTop1;
        top1Compared += call.top1Compared;
    }

    /** Starts a call whose routers make {@code slotsPerToken} assignments per token (k; c·E/N for expert choice). */
    void reset(double slotsPerToken) {
        reset();
        topK = slotsPerToken;
    }

    /** One token's raw logits z[off ..+ E): the z-loss term and softmax(z) for the marginal entropy. */
    void addLogits(float[] z, int off) {
        double lse = LogSoftmax.logSumExp(z, off, counts.length);
        hasLogits = true;
        zSquaredSum += lse * lse;
        for (int e = 0; e < counts.length; e++) {
            softmaxSum[e] += Math.exp(z[off + e] - lse);
        }
    }

    void addDropped() {
        dropped++;
    }

    /** After the call's tokens were added: {@code same} of them match the previous MoE layer's top-1 (−1: none). */
    void setSameTop1(int same) {
        sameTop1 = Math.max(same, 0);
        top1Compared = same < 0 ? 0 : tokens;
    }

    void addToken(float[] probs, int off, double entropy) {
        tokens++;
        entropySum += entropy;
        for (int e = 0; e < counts.length; e++) {
            probSum[e] += probs[off + e];
        }
    }

    void addSelection(int expert) {
        counts[expert]++;
    }

    /** Number of tokens N in the last call. */
    public int tokens() {
        return tokens;
    }

    /** c_e for every expert (copy). */
    public int[] tokensPerExpert() {
        return counts.clone();
    }

    /** c_e of one expert. */
    public int tokensFor(int expert) {
        return counts[expert];
    }

    /** Mean over tokens of the router entropy −Σ_e s_e log s_e (nats). */
    public double meanEntropy() {
        return tokens == 0 ? 0 : entropySum / tokens;
    }

    /** P_e = mean router probability of expert e. */
    public double meanProbability(int expert) {
        return tokens == 0 ? 0 : probSum[expert] / tokens;
    }

    /** Switch/GShard auxiliary loss E·Σ_e f_e·P_e (1 at perfect balance). */
    public double loadBalancingLoss() {
        if (tokens == 0) {
            return 0;
        }
        double acc = 0;
        for (int e = 0; e < counts.length; e++) {
            acc += (double) counts[e] / ((double) topK * tokens) * meanProbability(e);
        }
        return counts.length * acc;
    }

    /** Assignments per token k used by the load fraction (k for top-k routers; the mean for expert choice). */
    public double slotsPerToken() {
        return topK;
    }

    /** f_e = c_e / (k·N), the fraction of assignment slots that went to expert e. */
    public double loadFraction(int expert) {
        return tokens == 0 ? 0 : counts[expert] / ((double) topK * tokens);
    }

    /** HF Mixtral / Qwen-MoE auxiliary loss E·Σ_e (c_e/N)·P_e = k·{@link #loadBalancingLoss()} (k at balance). */
    public double hfAuxLoss() {
        return topK * loadBalancingLoss();
    }

    /** Router z-loss (1/N)·Σ_t (logsumexp_e z_{t,e})² (ST-MoE); NaN for routers without logits (hash). */
    public double zLoss() {
        return !hasLogits || tokens == 0 ? Double.NaN : zSquaredSum / tokens;
    }

    /**
     * Entropy H(p̄) of the call-averaged selection distribution p̄_e = (1/N)·Σ_t softmax(z_t)_e (nats): the
     * quantity σ-MoE and SwitchHead (Csordás et al.) regularize in training, with loss −coef·H (coef 0.01 for the
     * feed-forward, 0.001 for attention). NaN for routers without logits (hash).
     */
    public double marginalEntropy() {
        if (!hasLogits || tokens == 0) {
            return Double.NaN;
        }
        double h = 0;
        for (double sum : softmaxSum) {
            double p = sum / tokens;
            if (p > 0) {
                h -= p * Math.log(p);
            }
        }
        return h;
    }

    /** MaxVio = max_e c_e / mean_e c_e − 1 (0 at perfect balance; 0 when nothing was assigned). */
    public double maxViolation() {
        double mean = meanCount();
        return mean == 0 ? 0 : maxCount() / mean - 1;
    }

    /** Coefficient of variation of c_e: population standard deviation over the mean (0 when nothing assigned). */
    public double coefficientOfVariation() {
        double mean = meanCount();
        return mean == 0 ? 0 : Math.sqrt(squaredDeviations(mean) / counts.length) / mean;
    }

    private double meanCount() {
        return (double) keptAssignments() / counts.length;
    }

    // Σ_e c_e: the assignments that reached an expert
    private long keptAssignments() {
        long sum = 0;
        for (int c : counts) {
            sum += c;
        }
        return sum;
    }

    private int maxCount() {
        int max = 0;
        for (int c : counts) {
            max = Math.max(max, c);
        }
        return max;
    }

    // Σ_e (c_e − mean)²
    private double squaredDeviations(double mean) {
        double sum = 0;
        for (int c : counts) {
            sum += (c - mean) * (c - mean);
        }
        return sum;
    }

    /** Assignments dropped by a capacity limit, over all assignments the router made (0 without a limit). */
    public double droppedFraction() {
        long kept = keptAssignments();
        return kept + dropped == 0 ? 0 : dropped / (double) (kept + dropped);
    }

    /** Number of assignments dropped by a capacity limit. */
    public int droppedAssignments() {
        return dropped;
    }

    /**
     * Routing stability: fraction of tokens whose top-1 expert equals the previous MoE layer's in the same
     * forward pass; NaN for the first MoE layer (or a layer run outside a shared {@link RoutingContext}).
     */
    public double top1Agreement() {
        return top1Compared == 0 ? Double.NaN : sameTop1 / (double) top1Compared;
    }

    @Override
    public String toString() {
        return "RouterStats(tokens=" + tokens + ", perExpert=" + Arrays.toString(counts) + ", meanEntropy="
                + meanEntropy() + ")";
    }
}
