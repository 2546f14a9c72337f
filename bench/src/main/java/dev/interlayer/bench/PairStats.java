package dev.interlayer.bench;

import java.util.Arrays;
import java.util.Locale;

/** Order statistics of a small sample (the pair ratios of {@link SideBySide}): median, quartiles, range. */
final class PairStats {
    private PairStats() {
    }

    /**
     * The q-quantile of {@code x} by linear interpolation between order statistics (the "type 7" rule of R and
     * numpy's default): position h = (n − 1)·q, value x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋+1₎ − x₍⌊h⌋₎) on the sorted sample.
     */
    static double quantile(double[] x, double q) {
        if (x.length == 0) {
            throw new IllegalArgumentException("quantile of an empty sample");
        }
        double[] s = x.clone();
        Arrays.sort(s);
        double h = (s.length - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(lo + 1, s.length - 1);
        return s[lo] + (h - lo) * (s[hi] - s[lo]);
    }

    /** "median M (quartiles Q1–Q3, range MIN–MAX, n N)". */
    static String describe(double[] x) {
        return String.format(Locale.ROOT, "median %.3f (quartiles %.3f-%.3f, range %.3f-%.3f, n %d)",
                quantile(x, 0.5), quantile(x, 0.25), quantile(x, 0.75), quantile(x, 0), quantile(x, 1), x.length);
    }
}
