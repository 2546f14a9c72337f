package dev.interlayer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link PairStats}: the quantile rule against numpy and its order-statistic invariants. */
class PairStatsTest {

    /** Expected values from numpy 1.26 {@code np.quantile(x, q)} (default linear rule) on the same sample. */
    @Test
    void quantilesMatchNumpyOnAnUnsortedSample() {
        double[] x = {0.91, 1.07, 0.98, 1.02, 0.95, 1.10};
        assertEquals(0.9575, PairStats.quantile(x, 0.25), 1e-12);
        assertEquals(1.0, PairStats.quantile(x, 0.5), 1e-12);
        assertEquals(1.0575, PairStats.quantile(x, 0.75), 1e-12);
    }

    @Test
    void extremesAreMinAndMaxAndAnOddMedianIsTheMiddleElement() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int n = 1; n <= 9; n += 2) {
            double[] x = rng.doubles(n).toArray();
            double[] sorted = x.clone();
            java.util.Arrays.sort(sorted);
            assertEquals(sorted[0], PairStats.quantile(x, 0));
            assertEquals(sorted[n - 1], PairStats.quantile(x, 1));
            assertEquals(sorted[n / 2], PairStats.quantile(x, 0.5));
        }
    }

    @Test
    void anEmptySampleIsRefusedByName() {
        assertEquals("quantile of an empty sample",
                assertThrows(IllegalArgumentException.class, () -> PairStats.quantile(new double[0], 0.5))
                        .getMessage());
    }
}
