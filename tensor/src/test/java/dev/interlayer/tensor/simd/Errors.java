package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.fail;

import dev.interlayer.tensor.Fixtures;
import java.util.Map;
import java.util.TreeMap;

/** Element-wise comparison against the oracle with a per-element bound; keeps the worst error per op (llm.c's maxdiff). */
final class Errors {
    /** Allowed |actual - expected| for element i. */
    interface Bound {
        double allowed(int i, float expected);
    }

    private record Worst(double abs, double ulps, double ratio, String where) {
    }

    private final Map<String, Worst> worst = new TreeMap<>();

    /** Asserts |actual[i] - expected[i]| <= bound for every i (NaN must match NaN, infinities must match exactly). */
    void check(String op, String ctx, float[] expected, float[] actual, Bound bound) {
        if (expected.length != actual.length) {
            fail(op + " " + ctx + ": length " + actual.length + " != " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            boolean same = Float.compare(e, a) == 0 || e == a || Float.isNaN(e) && Float.isNaN(a);
            double err = same ? 0 : Math.abs((double) a - e);
            double allowed = bound.allowed(i, e);
            boolean ok = same || Float.isFinite(e) && Float.isFinite(a) && err <= allowed;
            double ulps = Fixtures.ulps(e, a);
            double ratio = err == 0 ? 0 : allowed == 0 ? Double.POSITIVE_INFINITY : err / allowed;
            Worst w = worst.get(op);
            if (w == null || ratio > w.ratio || ratio == w.ratio && err > w.abs) {
                worst.put(op, new Worst(Math.max(err, w == null ? 0 : w.abs), Math.max(ulps, w == null ? 0 : w.ulps),
                        ratio, ctx + " [" + i + "]"));
            } else if (err > w.abs || ulps > w.ulps) {
                worst.put(op, new Worst(Math.max(err, w.abs), Math.max(ulps, w.ulps), w.ratio, w.where));
            }
            if (!ok) {
                fail(op + " " + ctx + ": element " + i + " expected " + e + " but was " + a + " (|diff| " + err
                        + " > allowed " + allowed + ", " + ulps + " ulps)");
            }
        }
    }

    /** One line per op: worst absolute error, worst ulps, worst error/bound ratio and where. */
    String report() {
        StringBuilder sb = new StringBuilder();
        worst.forEach((op, w) -> sb.append(String.format("  %-28s max|diff| %.3g  max ulps %.3g  worst/bound %.3f at %s%n",
                op, w.abs, w.ulps, w.ratio, w.where)));
        return sb.toString();
    }
}
