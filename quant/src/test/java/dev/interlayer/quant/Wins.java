package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

/**
 * Statistical claims over seeds, for methods that are better on most inputs but not on every one: the method's
 * error must be below the baseline's in at least {@code need} of {@code n} tries.
 */
final class Wins {
    private Wins() {
    }

    /** One try's errors: the method's and the baseline's. */
    record Errors(double method, double baseline) {
    }

    /** One try, with its index and a generator seeded with seed0 + t. */
    @FunctionalInterface
    interface Try {
        Errors run(int t, SplittableRandom r);
    }

    /** Asserts method &lt; baseline in at least {@code need} of tries t = 0 .. n−1; the message lists every pair. */
    static void atLeast(int need, int n, long seed0, String what, Try body) {
        int wins = 0;
        StringBuilder log = new StringBuilder();
        for (int t = 0; t < n; t++) {
            Errors e = body.run(t, new SplittableRandom(seed0 + t));
            wins += e.method() < e.baseline() ? 1 : 0;
            log.append(String.format(" %.3g/%.3g", e.method(), e.baseline()));
        }
        assertTrue(wins >= need, what + ":" + log);
    }
}
