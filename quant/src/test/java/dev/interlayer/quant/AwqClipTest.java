package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.testing.Tries;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * AWQ's two-sided clipping search (scale 1, so only the clip acts): against a brute-force oracle over the same
 * candidates, never worse than no clipping on the output error, and the reference search on symmetric grids.
 */
class AwqClipTest {
    private static final Awq.Options CLIP_ONLY = new Awq.Options(1, true, 20, 0.5).withTwoSided(true);

    // Δᵀ·H_gg·Δ of row r, columns [c0, c0 + len) for Δ = ŵ − w
    private static double error(double[] dlt, int c0, int len, double[] h, int cols) {
        double e = 0;
        for (int a = 0; a < len; a++) {
            for (int b = 0; b < len; b++) {
                e += dlt[a] * h[(c0 + a) * cols + c0 + b] * dlt[b];
            }
        }
        return e;
    }

    @Test
    void twoSidedClipIsTheBestOfItsCandidatesAndNeverWorseThanNone() {
        Tries.run(12, 8500, (t, r) -> {
            GridKind[] asym = {GridKind.ASYM_OFFSET, GridKind.ASYM_ZERO, GridKind.ASYM_MINMAX};
            var p = AwqGroupsTest.Problem.random(r, q -> QuantScheme.of(asym[q.nextInt(3)], 2 + q.nextInt(4),
                    new int[] {8, 16, 0}[q.nextInt(3)]));
            int d = p.d(), rows = p.rows();
            double[] h = p.h();
            QuantScheme s = p.s();
            float[] w = p.w();
            QuantizedLinear q = Awq.quantize(List.of(w), new int[] {rows}, d, p.meanAbs(), h, s, CLIP_ONLY)
                    .weights().get(0);
            QuantizedLinear none = Rtn.quantize(w, rows, d, s);
            int g = s.groupFor(d), steps = 10, qmin = s.kind().minCode(), maxq = s.maxq();
            double[] v = new double[g], cl = new double[g], dlt = new double[g], sz = new double[2];
            for (int row = 0; row < rows; row++) {
                for (int c0 = 0; c0 < d; c0 += g) {
                    int len = Math.min(d, c0 + g) - c0;
                    double lo = 0, hi = 0;
                    for (int j = 0; j < len; j++) {
                        v[j] = w[row * d + c0 + j];
                        lo = Math.max(lo, -v[j]);
                        hi = Math.max(hi, v[j]);
                    }
                    double oracle = Double.POSITIVE_INFINITY;
                    for (int i = 0; i < steps; i++) {
                        for (int k = 0; k < steps; k++) {
                            double mn = (float) (lo * (1 - i / 20.0)), mx = (float) (hi * (1 - k / 20.0));
                            for (int j = 0; j < len; j++) {
                                cl[j] = Math.max(-mn, Math.min(mx, v[j]));
                            }
                            Grid.fit(s, cl, 0, len, 1.0, sz);
                            for (int j = 0; j < len; j++) {
                                dlt[j] = Grid.roundTrip(s.kind(), cl[j], sz[0], sz[1], qmin, maxq) - v[j];
                            }
                            oracle = Math.min(oracle, error(dlt, c0, len, h, d));
                        }
                    }
                    for (int j = 0; j < len; j++) {
                        dlt[j] = q.value(row, c0 + j) - v[j];
                    }
                    double got = error(dlt, c0, len, h, d);
                    assertEquals(oracle, got, 1e-9 * Math.max(oracle, 1e-30), "try " + t + " " + s + " row " + row
                            + " group " + c0);
                    for (int j = 0; j < len; j++) {
                        dlt[j] = none.value(row, c0 + j) - v[j];
                    }
                    assertTrue(got <= error(dlt, c0, len, h, d) * (1 + 1e-12), "try " + t + ": worse than no clip");
                }
            }
        });
    }

    @Test
    void symmetricGridsKeepTheReferenceSearch() {
        Tries.run(8, 8600, (t, r) -> {
            GridKind[] sym = {GridKind.SYM, GridKind.SYM_SIGNED_MAX, GridKind.SYM_RESTRICTED};
            var p = AwqGroupsTest.Problem.random(r, q -> QuantScheme.of(sym[q.nextInt(3)], 4, 8));
            int[] rows = {p.rows()};
            assertEquals(Awq.quantize(List.of(p.w()), rows, p.d(), p.meanAbs(), p.h(), p.s(), Awq.Options.DEFAULT)
                    .weights(), Awq.quantize(List.of(p.w()), rows, p.d(), p.meanAbs(), p.h(), p.s(),
                    Awq.Options.DEFAULT.withTwoSided(true)).weights(), "try " + t + " " + p.s());
        });
    }
}
