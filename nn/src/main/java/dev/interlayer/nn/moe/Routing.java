package dev.interlayer.nn.moe;

import dev.interlayer.nn.RowBuffer;
import dev.interlayer.tensor.Tensor;

/**
 * The result of routing one call: per token the raw logits z_t [E] and the normalized scores s_t [E]
 * (a probability row: softmax for softmax routers, sigmoid scores divided by their sum for sigmoid
 * routers, one-hot for hash routing), and a list of (token, expert, weight, rank) assignments, rank 0
 * being a token's first choice. Assignments dropped by a capacity limit keep their place with
 * {@link #dropped(int)} set and contribute nothing.
 *
 * <p>Preallocated for a session; mutable; one thread owns it.
 */
public final class Routing {
    private final int experts;
    private final int maxTokens;
    private final RowBuffer logits; // [maxTokens, E] z
    private final float[] scores;   // [maxTokens * E] s
    private final int[] token;      // [maxAssignments]
    private final int[] expert;     // [maxAssignments]
    private final float[] weight;   // [maxAssignments]
    private final int[] rank;       // [maxAssignments] 0 = the token's first choice
    private final boolean[] dropped; // [maxAssignments]
    private int tokens;
    private int count;
    private boolean hasLogits;

    /** Buffers for E experts, up to maxTokens tokens and maxAssignments assignments per call. */
    public Routing(int experts, int maxTokens, int maxAssignments) {
        this.experts = experts;
        this.maxTokens = maxTokens;
        this.logits = new RowBuffer(maxTokens, experts);
        this.scores = new float[maxTokens * experts];
        this.token = new int[maxAssignments];
        this.expert = new int[maxAssignments];
        this.weight = new float[maxAssignments];
        this.rank = new int[maxAssignments];
        this.dropped = new boolean[maxAssignments];
    }

    /** Starts a call of {@code t} tokens: no assignments, logits marked present (routers without logits clear it). */
    public void begin(int t) {
        if (t < 1 || t > maxTokens) {
            throw new IllegalArgumentException("routing buffer holds 1.." + maxTokens + " tokens, asked for " + t);
        }
        tokens = t;
        count = 0;
        hasLogits = true;
    }

    /** Appends one assignment. */
    public void add(int tok, int exp, float w, int r) {
        if (count == token.length) {
            throw new IllegalStateException("router made more than " + token.length + " assignments for " + tokens
                    + " tokens");
        }
        token[count] = tok;
        expert[count] = exp;
        weight[count] = w;
        rank[count] = r;
        dropped[count] = false;
        count++;
    }

    /** The logits as a [T, E] view (routers write it). */
    public Tensor logitRows() {
        return logits.rows(tokens);
    }

    /** Backing array of the logits, row-major [maxTokens, E]. */
    public float[] logits() {
        return logits.data();
    }

    /** Backing array of the normalized scores, row-major [maxTokens, E]. */
    public float[] scores() {
        return scores;
    }

    /** Marks that this router has no logits (hash routing): the z-loss is then not defined. */
    public void noLogits() {
        hasLogits = false;
    }

    /** Whether {@link #logits()} holds router logits for this call. */
    public boolean hasLogits() {
        return hasLogits;
    }

    public int experts() {
        return experts;
    }

    /** Tokens T of this call. */
    public int tokens() {
        return tokens;
    }

    /** Number of assignments. */
    public int count() {
        return count;
    }

    public int token(int i) {
        return token[i];
    }

    public int expert(int i) {
        return expert[i];
    }

    public float weight(int i) {
        return weight[i];
    }

    public int rank(int i) {
        return rank[i];
    }

    public boolean dropped(int i) {
        return dropped[i];
    }

    void drop(int i) {
        dropped[i] = true;
    }
}
