package dev.interlayer.tensor.testing;

import java.util.SplittableRandom;

/**
 * The property-test loop of the test suites (STYLE §6.2): try t of n runs with its own seed, seed0 + t, so that a
 * failing try can be rerun alone; a failure is rethrown naming the try and its seed.
 */
public final class Tries {
    private Tries() {
    }

    /** One try: its index and a generator seeded with seed0 + t. */
    @FunctionalInterface
    public interface Body {
        /** Runs try t with generator r. */
        void run(int t, SplittableRandom r) throws Exception;
    }

    /** One try given its seed, for tests that build their own generator from it. */
    @FunctionalInterface
    public interface SeedBody {
        /** Runs the try seeded with seed. */
        void run(long seed) throws Exception;
    }

    /** Runs tries t = 0 .. n−1, each with {@code new SplittableRandom(seed0 + t)}. */
    public static void run(int n, long seed0, Body body) {
        seeds(n, seed0, seed -> body.run((int) (seed - seed0), new SplittableRandom(seed)));
    }

    /** Runs tries t = 0 .. n−1 with seeds seed0 + t. */
    public static void seeds(int n, long seed0, SeedBody body) {
        for (int t = 0; t < n; t++) {
            long seed = seed0 + t;
            try {
                body.run(seed);
            } catch (AssertionError | Exception e) {
                throw new AssertionError("try " + t + " of " + n + " (seed " + seed + "): " + e.getMessage(), e);
            }
        }
    }
}
