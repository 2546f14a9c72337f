package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.testing.Tries;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * AWQ with one exponent per group of input channels: never worse on its objective than one shared exponent (the
 * coordinate descent starts there and keeps only improvements), a single group is the shared search, channels of
 * one group share one exponent, and a mismatched group map is refused.
 */
class AwqGroupsTest {
    /** A random AWQ problem: n = d + 10 calibration rows, their mean |x| and H, a scheme, weights w [rows, d]. */
    record Problem(int d, int rows, double[] meanAbs, double[] h, QuantScheme s, float[] w) {
        static Problem random(SplittableRandom r) {
            return random(r, Rand::scheme);
        }

        /** With the scheme drawn by {@code scheme}. */
        static Problem random(SplittableRandom r, java.util.function.Function<SplittableRandom, QuantScheme> scheme) {
            int d = 8 + r.nextInt(56), rows = 1 + r.nextInt(8), n = d + 10;
            float[] x = Rand.activations(r, n, d);
            ActivationStats st = new ActivationStats(d);
            st.accept(x, n, null);
            return new Problem(d, rows, st.meanAbs(), Rand.hessian(x, n, d), scheme.apply(r), Rand.weights(r, rows, d));
        }
    }

    private static int[] groupsOf(int d, int size) {
        int[] g = new int[d];
        for (int j = 0; j < d; j++) {
            g[j] = j / size;
        }
        return g;
    }

    @Test
    void perGroupExponentsNeverLoseToTheSharedOne() {
        Tries.run(12, 8100, (t, r) -> {
            Problem p = Problem.random(r);
            Awq.Options o = Awq.Options.DEFAULT.withClip(false);
            Awq.Result shared = Awq.quantize(List.of(p.w), new int[] {p.rows}, p.d, p.meanAbs, p.h, p.s, o);
            Awq.Result grouped = Awq.quantize(List.of(p.w), new int[] {p.rows}, p.d, p.meanAbs, p.h, p.s, o, null,
                    groupsOf(p.d, 8));
            assertTrue(grouped.loss() <= shared.loss(), "try " + t + ": " + grouped.loss() + " > " + shared.loss());
            assertEquals(shared.alpha(), grouped.alpha(), 0.0, "try " + t + ": the shared exponent it started from");
            // the reported loss is the objective of the returned scales and weights
            double check = Awq.outputError(List.of(p.w), new int[] {p.rows}, p.h).loss(grouped.inputScales(),
                    List.of(Rtn.quantize(Awq.scaleColumns(p.w, p.rows, p.d, grouped.inputScales()), p.rows, p.d, p.s)));
            assertEquals(grouped.loss(), check, 1e-9 * check, "try " + t);
        });
    }

    @Test
    void oneGroupIsTheSharedSearch() {
        Tries.run(6, 8200, (t, r) -> {
            Problem p = Problem.random(r);
            Awq.Result shared = Awq.quantize(List.of(p.w), new int[] {p.rows}, p.d, p.meanAbs, p.h, p.s,
                    Awq.Options.DEFAULT);
            Awq.Result one = Awq.quantize(List.of(p.w), new int[] {p.rows}, p.d, p.meanAbs, p.h, p.s,
                    Awq.Options.DEFAULT, null, new int[p.d]);
            assertEquals(shared.weights(), one.weights(), "try " + t);
            assertEquals(shared.loss(), one.loss(), 0.0, "try " + t);
        });
    }

    /** Channels of one group share one exponent: equal statistics give equal scales, whatever the groups chose. */
    @Test
    void channelsOfAGroupShareTheirExponent() {
        Tries.run(8, 8300, (t, r) -> {
            Problem p = Problem.random(r);
            int d = p.d;
            double[] m = p.meanAbs.clone();
            int[] g = new int[d];
            for (int j = 0; j < d; j++) {
                g[j] = j % 2;                              // channels j and j + 2 in one group
            }
            for (int j = 0; j + 2 < d; j += 4) {
                m[j + 2] = m[j];                           // tied statistics, as AwqFolding's GQA tie gives
            }
            Awq.Result res = Awq.quantize(List.of(p.w), new int[] {p.rows}, d, m, p.h, p.s,
                    Awq.Options.DEFAULT.withClip(false), null, g);
            for (int j = 0; j + 2 < d; j += 4) {
                assertEquals(res.inputScales()[j], res.inputScales()[j + 2], 0.0, "try " + t + " channel " + j);
            }
        });
    }

    @Test
    void aGroupMapOfTheWrongLengthIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> Awq.quantize(List.of(new float[16]), new int[] {2},
                8, new double[8], new double[64], QuantScheme.of(GridKind.SYM, 4, 8), Awq.Options.DEFAULT, null,
                new int[7]));
        assertTrue(e.getMessage().contains("one exponent group per input channel, 8; got 7"), e.getMessage());
    }
}
