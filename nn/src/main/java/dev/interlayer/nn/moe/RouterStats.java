package dev.interlayer.nn.moe;

import java.util.Arrays;

/**
 * Router statistics of the last call of one MoE layer (§5.10), over its N tokens: c_e (token slots
 * per expert, Σ c_e = k·N), P_e (mean router probability), mean entropy H = −Σ_e s_e log s_e, and
 * the Switch load-balancing loss E·Σ_e f_e·P_e with f_e = c_e/(k·N). Collecting them does not change
 * the layer output. Mutable: overwritten by every call; one thread owns it.
 */
public final class RouterStats {
    private final int[] counts;     // [E]
    private final double[] probSum; // [E]
    private final int topK;
    private int tokens;
    private double entropySum;

    RouterStats(int experts, int topK) {
        this.counts = new int[experts];
        this.probSum = new double[experts];
        this.topK = topK;
    }

    void reset() {
        Arrays.fill(counts, 0);
        Arrays.fill(probSum, 0);
        tokens = 0;
        entropySum = 0;
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

    @Override
    public String toString() {
        return "RouterStats(tokens=" + tokens + ", perExpert=" + Arrays.toString(counts) + ", meanEntropy="
                + meanEntropy() + ")";
    }
}
