package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The two-sided clipping search ({@link ClipSearch#twoSided}): the same codes, scales and zeros (offsets) as
 * reference/quant-ptq/gen_rtn.py's float64 search written from the equations, and its properties: never worse than
 * the proportional search on the search's own objective, no better than the exhaustive search over the same
 * candidate pairs, symmetric grids unchanged, grid values and all-zero groups kept exactly, and a lone outlier
 * clipped at its own end.
 */
class ClipTwoSidedTest {
    static final int TRIES = 60;

    @Test
    void matchesReference() {
        Golden.forEachCase("rtn_two_sided.json", 6, c -> {
            QuantScheme s = Golden.scheme(c);
            assertTrue(s.clip().twoSided(), "fixture is two-sided");
            QuantizedLinear q = Rtn.quantize(Golden.floats(c, "w"), c.get("rows").getAsInt(), c.get("cols").getAsInt(), s);
            String name = c.get("name").getAsString();
            int[] codes = Golden.ints(c, "codes");
            for (int i = 0; i < codes.length; i++) {
                assertEquals(codes[i], Byte.toUnsignedInt(q.codes()[i]), name + " code " + i);
            }
            double[] scales = Golden.doubles(c, "scales"), zeros = Golden.doubles(c, "zeros");
            for (int g = 0; g < scales.length; g++) {
                // delta 0: equal values, with the reference's −0.0 zero point equal to 0.0
                assertEquals((float) scales[g], q.scales()[g], 0f, name + " scale " + g);
                assertEquals((float) zeros[g], q.zeros()[g], 0f, name + " zero " + g);
            }
        });
    }

    @Test
    void neverWorseThanProportionalNorBetterThanExhaustive() {
        int strictly = 0, asym = 0;
        for (int t = 0; t < TRIES; t++) {
            var r = new SplittableRandom(1300 + t);
            QuantScheme s0 = Rand.scheme(r);
            ClipSearch c = r.nextBoolean() ? ClipSearch.MSE : new ClipSearch(20, 0.5, 2.4);
            QuantScheme prop = s0.withClip(c), two = s0.withClip(c.withTwoSided(true));
            int len = 1 + r.nextInt(64);
            double[] v = toDouble(Rand.weights(r, 1, len));
            double[] a = null;
            if (r.nextBoolean()) {
                a = new double[len];
                for (int j = 0; j < len; j++) {
                    a[j] = Math.exp(r.nextGaussian());
                }
            }
            double[] p = new double[2], q = new double[2], full = new double[2];
            Grid.search(prop, v, 0, len, a, p);
            Grid.search(two, v, 0, len, a, q);
            Grid.fit(two, v, 0, len, 1.0, full);
            double ep = error(two, v, a, p), eq = error(two, v, a, q);
            // the search decides on Grid's sum; this recomputation may differ from it by rounding
            double tol = 1 + 1e-12;
            assertTrue(eq <= ep * tol, "try " + t + " " + two + ": two-sided " + eq + " > proportional " + ep);
            assertTrue(eq <= error(two, v, a, full) * tol, "try " + t + ": worse than the full range");
            if (s0.kind().symmetric()) {
                assertArrayEquals(p, q, 0.0, "try " + t + ": a symmetric grid's search changed");
                continue;
            }
            asym++;
            strictly += eq < ep ? 1 : 0;
            assertTrue(exhaustive(two, v, a) <= eq * tol, "try " + t + ": below the exhaustive minimum");
        }
        // lopsided groups are common in these weights (2 % outliers): the second factor must be used
        assertTrue(strictly >= asym / 3, strictly + " of " + asym + " asymmetric tries improved");
    }

    /** Weights that lie on an asymmetric grid with both end codes used are kept exactly (p = 1 has zero error). */
    @Test
    void gridValuesAndZeroGroupsAreKept() {
        for (int t = 0; t < TRIES; t++) {
            var r = new SplittableRandom(1400 + t);
            GridKind kind = switch (t % 3) {
                case 0 -> GridKind.ASYM_OFFSET;
                case 1 -> GridKind.ASYM_ZERO;
                default -> GridKind.ASYM_MINMAX;
            };
            int bits = 2 + r.nextInt(7), maxq = (1 << bits) - 1, cols = 2 + r.nextInt(40);
            QuantScheme s = new QuantScheme(kind, bits, 0, ClipSearch.MSE_TWO_SIDED,
                    r.nextBoolean() ? QuantScheme.ScaleFormat.F16 : QuantScheme.ScaleFormat.F32);
            double scale = Math.scalb(1.0, -3 - r.nextInt(6));
            int zero = r.nextInt(maxq + 1);                  // integer zero point: 0 lies on the grid
            float[] w = new float[2 * cols];
            for (int c = 0; c < cols; c++) {
                int q = c == 0 ? 0 : c == 1 ? maxq : r.nextInt(maxq + 1);
                w[c] = (float) (scale * (q - zero));
            }
            QuantizedLinear ql = Rtn.quantize(w, 2, cols, s);          // row 1 is all zeros
            assertArrayEquals(w, ql.dequantize(), 0f, "try " + t + " " + s + ": grid values moved");
        }
    }

    /**
     * One value 40× the group's other magnitudes dominates the squared error, so no search clips it much; the
     * proportional search can then only shave the small end in step with it, while the two-sided one moves the small
     * end alone onto the bulk of the values (BENCHMARKS: its error drops by more than half here).
     */
    @Test
    void aHugeValueIsKeptAndTheOtherEndRefit() {
        for (int seed = 15; seed < 18; seed++) {
            var r = new SplittableRandom(seed);
            QuantScheme two = new QuantScheme(GridKind.ASYM_OFFSET, 4, 32, ClipSearch.MSE_TWO_SIDED,
                    QuantScheme.ScaleFormat.F16);
            double[] v = toDouble(Rand.gaussian(r, 32, 0.05));
            double min = Double.POSITIVE_INFINITY;
            for (double x : v) {
                min = Math.min(min, x);
            }
            v[7] = 40 * Math.abs(min);
            double[] p = new double[2], q = new double[2];
            Grid.search(two.withClip(ClipSearch.MSE), v, 0, 32, null, p);
            Grid.search(two, v, 0, 32, null, q);
            double ep = error(two, v, null, p), eq = error(two, v, null, q);
            assertTrue(eq < 0.6 * ep, "seed " + seed + ": two-sided " + eq + " vs proportional " + ep);
            double kept = Grid.roundTrip(two.kind(), v[7], q[0], q[1], 0, two.maxq());
            assertTrue(Math.abs(kept - v[7]) <= q[0], "seed " + seed + ": the huge value became " + kept + " from " + v[7]);
            assertTrue(Double.isFinite(q[0]) && Double.isFinite(q[1]), "seed " + seed);
        }
    }

    @Test
    void symmetricKindsRefuseTwoFactors() {
        QuantScheme s = QuantScheme.of(GridKind.SYM_SIGNED_MAX, 4, 32);
        var e = assertThrows(IllegalArgumentException.class, () -> Grid.fit(s, new double[4], 0, 4, 0.9, 1.0, new double[2]));
        assertTrue(e.getMessage().contains("SYM_SIGNED_MAX"), e.getMessage());
    }

    // the exhaustive minimum over all (i, k) pairs of the same candidates
    static double exhaustive(QuantScheme s, double[] v, double[] a) {
        ClipSearch c = s.clip();
        double best = Double.POSITIVE_INFINITY;
        double[] sz = new double[2];
        for (int i = 0; i < c.steps(); i++) {
            for (int k = 0; k < c.steps(); k++) {
                Grid.fit(s, v, 0, v.length, c.shrink(i), c.shrink(k), sz);
                best = Math.min(best, error(s, v, a, sz));
            }
        }
        return best;
    }

    // the search's objective Σ a_j·|roundTrip(v_j) − v_j|^norm, recomputed independently of Grid's loop
    static double error(QuantScheme s, double[] v, double[] a, double[] sz) {
        double e = 0;
        for (int j = 0; j < v.length; j++) {
            double d = Math.abs(Grid.roundTrip(s.kind(), v[j], sz[0], sz[1], s.kind().minCode(), s.maxq()) - v[j]);
            e += (a == null ? 1 : a[j]) * Math.pow(d, s.clip().norm());
        }
        return e;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
