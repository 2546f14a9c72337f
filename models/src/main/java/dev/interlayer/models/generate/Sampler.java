package dev.interlayer.models.generate;

import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Chooses the next token from logits. Implementations are immutable configurations; {@link #start}
 * makes the per-generation {@link Picker} (own RNG seeded from the explicit seed, scratch buffers), so
 * the same seed gives the same tokens on every run and thread count.
 */
public sealed interface Sampler permits Sampler.Greedy, Sampler.Stochastic {

    /** A picker for one generation over a vocabulary of {@code vocabSize}. Not thread-safe. */
    Picker start(int vocabSize);

    /** Picks token ids; never modifies the logits array. */
    interface Picker {
        /** The chosen id. Shapes: logits [vocabSize]. */
        int pick(float[] logits);
    }

    /** argmax (lowest id on ties). */
    static Greedy greedy() {
        return new Greedy();
    }

    /** Temperature sampling from the full distribution. */
    static Stochastic temperature(float temperature, long seed) {
        return new Stochastic(temperature, 0, 1f, 0f, seed);
    }

    /** Nucleus sampling. */
    static Stochastic topP(float topP, float temperature, long seed) {
        return new Stochastic(temperature, 0, topP, 0f, seed);
    }

    /** Deterministic argmax. */
    record Greedy() implements Sampler {
        @Override
        public Picker start(int vocabSize) {
            return Greedy::argmax;
        }

        /** Index of the largest value, lowest index on ties; NaN is never chosen over a number. */
        public static int argmax(float[] a) {
            return argmax(a, 0, a.length);
        }

        /**
         * Index i in [0, n) of the largest a[off + i] (one row of a [rows, n] array), lowest index on ties; NaN
         * is never chosen over a number.
         */
        public static int argmax(float[] a, int off, int n) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (a[off + i] > a[off + best] || Float.isNaN(a[off + best])) {
                    best = i;
                }
            }
            return best;
        }
    }

    /**
     * Sampling after filtering, in this order: p = softmax(logits / temperature); keep the topK most
     * likely (0 = all); keep the smallest most-likely set with cumulative p ≥ topP (1 = all); drop tokens
     * with p &lt; minP · max p (0 = none); renormalise; draw with the generator
     * {@code L64X128MixRandom} seeded with {@code seed}. Temperature 0 is greedy.
     *
     * @param temperature ≥ 0
     * @param topK        ≥ 0 (0 = off)
     * @param topP        in (0, 1]
     * @param minP        in [0, 1)
     * @param seed        RNG seed
     */
    record Stochastic(float temperature, int topK, float topP, float minP, long seed) implements Sampler {
        /**
         * Validates the sampling options.
         *
         * @throws IllegalArgumentException if temperature is negative or not finite, topK is negative, topP is outside (0, 1],
         *                                  or minP is outside [0, 1)
         */
        public Stochastic {
            if (!(temperature >= 0) || Float.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be >= 0 and finite, got " + temperature);
            }
            if (topK < 0) {
                throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
            }
            if (!(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
            }
            if (!(minP >= 0 && minP < 1)) {
                throw new IllegalArgumentException("minP must be in [0, 1), got " + minP);
            }
        }

        @Override
        public Picker start(int vocabSize) {
            if (temperature == 0) {
                return Greedy::argmax;
            }
            RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
            int[] idx = new int[vocabSize];       // candidate ids, sorted by probability descending
            float[] prob = new float[vocabSize];  // probability per id
            return logits -> pick(logits, rng, idx, prob);
        }

        private int pick(float[] logits, RandomGenerator rng, int[] idx, float[] prob) {
            int n = logits.length;
            float max = Float.NEGATIVE_INFINITY;
            for (float l : logits) {
                max = Math.max(max, l);
            }
            for (int i = 0; i < n; i++) {
                prob[i] = (float) Math.exp((logits[i] - max) / temperature);   // unnormalised; max -> 1
            }
            // candidates: ids with p > 0 and p >= minP·p_max; unnormalised, p_max is exp(0) = 1, so the cut is minP
            float minKeep = minP;
            int m = 0;
            for (int i = 0; i < n; i++) {
                if (prob[i] > 0 && prob[i] >= minKeep) {
                    idx[m++] = i;
                }
            }
            if (m == 0) {   // every logit NaN or -inf: nothing to draw from (idx[m - 1] below would be out of range)
                throw new IllegalStateException("no finite logits to sample from (all NaN or -infinity)");
            }
            if (topK > 0 && topK < m) {
                m = selectTop(idx, m, topK, prob);   // O(m log k) instead of sorting the whole vocabulary
            }
            sortDescending(idx, m, prob);
            double total = 0;
            for (int j = 0; j < m; j++) {
                total += prob[idx[j]];
            }
            if (topP < 1) {
                double cum = 0;
                int keep = m;
                for (int j = 0; j < m; j++) {
                    cum += prob[idx[j]];
                    if (cum >= topP * total) {
                        keep = j + 1;
                        break;
                    }
                }
                total = 0;
                for (int j = 0; j < keep; j++) {
                    total += prob[idx[j]];
                }
                m = keep;
            }
            double u = rng.nextDouble() * total;
            double cum = 0;
            for (int j = 0; j < m; j++) {
                cum += prob[idx[j]];
                if (u < cum) {
                    return idx[j];
                }
            }
            return idx[m - 1];
        }

        /** Heapsort of idx[0, n) by prob descending, ties by id ascending (deterministic, allocation-free). */
        static void sortDescending(int[] idx, int n, float[] prob) {
            for (int i = n / 2 - 1; i >= 0; i--) {
                siftDown(idx, i, n, prob);
            }
            for (int end = n - 1; end > 0; end--) {
                int t = idx[0];
                idx[0] = idx[end];
                idx[end] = t;
                siftDown(idx, 0, end, prob);
            }
        }

        /**
         * Moves the k best of idx[0, n) (by prob descending, ties by id ascending: the order of
         * {@link #sortDescending}) into idx[0, k), unordered, and returns k. Allocation-free: a min-heap
         * of the k best so far, whose root (the worst of them) is replaced by any better candidate.
         */
        static int selectTop(int[] idx, int n, int k, float[] prob) {
            for (int i = k / 2 - 1; i >= 0; i--) {
                siftDown(idx, i, k, prob);
            }
            for (int j = k; j < n; j++) {
                if (before(idx[0], idx[j], prob)) {
                    idx[0] = idx[j];
                    siftDown(idx, 0, k, prob);
                }
            }
            return k;
        }

        // min-heap on (prob, -id) so that popping to the end leaves a descending array
        private static boolean before(int a, int b, float[] prob) {
            return prob[a] < prob[b] || (prob[a] == prob[b] && a > b);
        }

        private static void siftDown(int[] idx, int i, int n, float[] prob) {
            while (true) {
                int l = 2 * i + 1, r = l + 1, s = i;
                if (l < n && before(idx[l], idx[s], prob)) {
                    s = l;
                }
                if (r < n && before(idx[r], idx[s], prob)) {
                    s = r;
                }
                if (s == i) {
                    return;
                }
                int t = idx[i];
                idx[i] = idx[s];
                idx[s] = t;
                i = s;
            }
        }
    }
}
