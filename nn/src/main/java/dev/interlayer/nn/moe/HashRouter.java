package dev.interlayer.nn.moe;

import dev.interlayer.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Hash routing (Roller et al. 2021, "Hash Layers For Large Sparse Models"): each token goes to exactly one
 * expert chosen by a fixed table of its <em>input</em> token id, e_t = H(id_t), with weight 1. No learned
 * router and no dependence on the hidden state. Ids beyond the table (added to the vocabulary after
 * training) use bin id mod E. Causal.
 *
 * <p>The table must be the one the checkpoint was trained with; {@link #balancedRandom} builds a fresh
 * balanced random table (every bin gets ⌊V/E⌋ or ⌈V/E⌉ ids) deterministically from a seed, for new models.
 *
 * @param table      H: token id → expert, [V] entries in [0, E)
 * @param numExperts E
 */
public record HashRouter(int[] table, int numExperts) implements Router {
    /**
     * Checks that every entry names an expert; copies the table.
     *
     * @throws IllegalArgumentException naming the first bad entry
     */
    public HashRouter {
        if (numExperts < 1) {
            throw new IllegalArgumentException("HashRouter: numExperts must be >= 1, got " + numExperts);
        }
        table = table.clone();
        for (int i = 0; i < table.length; i++) {
            if (table[i] < 0 || table[i] >= numExperts) {
                throw new IllegalArgumentException("HashRouter: table[" + i + "] = " + table[i] + " is not in [0, "
                        + numExperts + ")");
            }
        }
    }

    /**
     * A balanced random table: the ids 0..V−1 in a random order (Fisher–Yates with {@link SplittableRandom}
     * seeded by {@code seed}) dealt round-robin into E bins. The same seed always gives the same table.
     */
    public static HashRouter balancedRandom(int vocab, int experts, long seed) {
        if (vocab < 1 || experts < 1) {
            throw new IllegalArgumentException("HashRouter: vocab and experts must be >= 1, got " + vocab + ", "
                    + experts);
        }
        int[] ids = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            ids[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = vocab - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = ids[i];
            ids[i] = ids[j];
            ids[j] = tmp;
        }
        int[] table = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            table[ids[i]] = i % experts;
        }
        return new HashRouter(table, experts);
    }

    /** A copy of the table. */
    @Override
    public int[] table() {
        return table.clone();
    }

    /** Expert of token id {@code id}. @throws IllegalArgumentException if id is negative */
    public int expertOf(int id) {
        if (id < 0) {
            throw new IllegalArgumentException("HashRouter: token id must be >= 0, got " + id);
        }
        return id < table.length ? table[id] : id % numExperts;
    }

    @Override
    public int inputWidth() {
        return -1;
    }

    @Override
    public boolean causal() {
        return true;
    }

    @Override
    public int maxAssignments(int tokens) {
        return tokens;
    }

    @Override
    public void route(Tensor u, RoutingContext context, Routing out, Object scratch) {
        int e = numExperts;
        float[] s = out.scores();
        out.noLogits();
        Arrays.fill(s, 0, out.tokens() * e, 0f);
        for (int t = 0; t < out.tokens(); t++) {
            int x = expertOf(context.tokenId(t));
            s[t * e + x] = 1f; // one-hot: the statistics see a deterministic choice
            out.add(t, x, 1f, 0);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HashRouter h && h.numExperts == numExperts && Arrays.equals(h.table, table);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(table) + numExperts;
    }

    @Override
    public String toString() {
        return "HashRouter[vocab=" + table.length + ", numExperts=" + numExperts + "]";
    }
}
