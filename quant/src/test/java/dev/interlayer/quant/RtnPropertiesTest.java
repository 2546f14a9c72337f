package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The RTN invariants of the grids (rounding bound, idempotence, zero, monotonicity, clip search, scale equivariance) and a synthetic error anchor. */
class RtnPropertiesTest {
    static final int TRIES = 40;

    @Test
    void errorWithinHalfStepAndZeroExact() {
        for (int t = 0; t < TRIES; t++) {
            var r = new SplittableRandom(100 + t);
            QuantScheme s = Rand.scheme(r);
            int rows = 1 + r.nextInt(5), cols = 1 + r.nextInt(70);
            float[] w = Rand.weights(r, rows, cols);
            w[r.nextInt(w.length)] = 0f;
            QuantizedLinear q = Rtn.quantize(w, rows, cols, s);
            for (int i = 0; i < w.length; i++) {
                int row = i / cols, c = i % cols, g = row * q.groups() + q.group(c);
                double scale = Math.abs(q.scales()[g]);
                double err = Math.abs(q.value(row, c) - w[i]);
                // Inside the grid's range the nearest level is at most half a step away; outside it (the
                // opposite-sign extreme of SYM_SIGNED_MAX, a clamped AWQ zero point, an fp-rounded offset) the
                // weight clamps to the nearer end.
                double a = Grid.value(s.kind(), s.kind().minCode(), q.scales()[g], q.zeros()[g]);
                double b = Grid.value(s.kind(), s.maxq(), q.scales()[g], q.zeros()[g]);
                double outside = Math.max(0, Math.max(Math.min(a, b) - w[i], w[i] - Math.max(a, b)));
                // only a zero point clamped to the code range (AWQ-style min/max grids) can leave more out
                boolean zeroClamped = s.kind() == GridKind.ASYM_MINMAX
                        && (q.zeros()[g] == 0 || q.zeros()[g] == s.maxq());
                if (!zeroClamped) {
                    assertTrue(outside <= scale * (1 + 0x1p-20), "try " + t + " " + s + " element " + i
                            + ": " + outside + " outside the grid's range");
                }
                double bound = Math.max(scale / 2, outside);
                // The scale is rounded to float32, which moves the grid's far end by up to maxq/2 float ulps.
                bound += s.maxq() * scale * 0x1p-24;
                assertTrue(err <= bound, "try " + t + " " + s + " element " + i + ": error " + err
                        + " > " + bound);
                if (w[i] == 0 && s.kind() != GridKind.ASYM_MINMAX && s.kind() != GridKind.ASYM_OFFSET) {
                    assertTrue(q.value(row, c) == 0.0, "try " + t + " " + s + ": zero not exact");   // ±0
                }
            }
        }
    }

    @Test
    void idempotentAndMonotone() {
        for (int t = 0; t < TRIES; t++) {
            var r = new SplittableRandom(200 + t);
            QuantScheme s = Rand.scheme(r).withClip(r.nextBoolean() ? ClipSearch.NONE : ClipSearch.MSE);
            int rows = 1 + r.nextInt(4), cols = 1 + r.nextInt(50);
            float[] w = Rand.weights(r, rows, cols);
            QuantizedLinear q = Rtn.quantize(w, rows, cols, s);
            int qmin = s.kind().minCode(), maxq = s.maxq();
            for (int row = 0; row < rows; row++) {
                for (int c = 0; c < cols; c++) {
                    int g = row * q.groups() + q.group(c);
                    double v = q.value(row, c);
                    assertEquals(q.code(row, c), Grid.code(s.kind(), v, q.scales()[g], q.zeros()[g], qmin, maxq),
                            "try " + t + ": re-quantizing a grid value changed its code");
                    for (int c2 = 0; c2 < cols; c2++) {
                        if (q.group(c2) == q.group(c) && w[row * cols + c] <= w[row * cols + c2]) {
                            assertTrue(v <= q.value(row, c2), "try " + t + ": not monotone");
                        }
                    }
                }
            }
        }
    }

    @Test
    void clipSearchNeverWorseAndScaleEquivariant() {
        for (int t = 0; t < TRIES; t++) {
            var r = new SplittableRandom(300 + t);
            QuantScheme s = Rand.scheme(r);
            int cols = 8 + r.nextInt(100);
            double[] v = new double[cols];
            float[] w = Rand.weights(r, 1, cols);
            for (int i = 0; i < cols; i++) {
                v[i] = w[i];
            }
            double[] plain = new double[2], searched = new double[2];
            Grid.fit(s, v, 0, cols, 1.0, plain);
            Grid.search(s.withClip(ClipSearch.GPTQ), v, 0, cols, searched);
            assertTrue(lpError(s, v, searched, 2.4) <= lpError(s, v, plain, 2.4), "try " + t + ": clip search worse");
            double c = Math.scalb(1.0, r.nextInt(9) - 4);   // powers of two: the float32-rounded scale scales exactly
            float[] cw = new float[cols];
            for (int i = 0; i < cols; i++) {
                cw[i] = (float) (c * w[i]);
            }
            if (s.kind() == GridKind.ASYM_MINMAX) {
                continue;                                   // its range floor of 1e-5 is not scale-equivariant
            }
            QuantizedLinear a = Rtn.quantize(w, 1, cols, s), b = Rtn.quantize(cw, 1, cols, s);
            assertTrue(java.util.Arrays.equals(a.codes(), b.codes()), "try " + t + ": codes changed under scaling by " + c);
            for (int g = 0; g < a.scales().length; g++) {
                assertEquals(c * a.scales()[g], b.scales()[g], 0.0, "try " + t + ": scale");
            }
        }
    }

    static double lpError(QuantScheme s, double[] v, double[] sz, double p) {
        double e = 0;
        for (double x : v) {
            e += Math.pow(Math.abs(Grid.roundTrip(s.kind(), x, sz[0], sz[1], s.kind().minCode(), s.maxq()) - x), p);
        }
        return e;
    }

    /** QUANTIZATION.md §1.6's own measurement in torch: relative MSE of Gaussian weights, asymmetric; ±5 %. */
    @Test
    void syntheticAnchor() {
        var r = new SplittableRandom(7);
        int rows = 128, cols = 4096;
        float[] w = Rand.gaussian(r, rows * cols, 1.0);
        assertRelMse(w, rows, cols, QuantScheme.of(GridKind.ASYM_ZERO, 4, 0), 1.97e-2);
        assertRelMse(w, rows, cols, QuantScheme.of(GridKind.ASYM_ZERO, 8, 0), 6.8e-5);
        assertRelMse(w, rows, cols, QuantScheme.of(GridKind.ASYM_ZERO, 4, 128), 1.01e-2);
        assertRelMse(w, rows, cols, QuantScheme.of(GridKind.ASYM_ZERO, 4, 32), 6.5e-3);
        assertRelMse(w, rows, cols, QuantScheme.of(GridKind.ASYM_ZERO, 3, 0).withClip(ClipSearch.MSE), 4.0e-2);
    }

    static void assertRelMse(float[] w, int rows, int cols, QuantScheme s, double expected) {
        float[] d = Rtn.quantize(w, rows, cols, s).dequantize();
        double num = 0, den = 0;
        for (int i = 0; i < w.length; i++) {
            num += (d[i] - w[i]) * (double) (d[i] - w[i]);
            den += (double) w[i] * w[i];
        }
        double rel = num / den;
        assertEquals(expected, rel, 0.05 * expected, s + ": relative MSE");
    }

    /** With F16 scale storage every stored scale is an fp16 value, and the codes were chosen on that scale. */
    @Test
    void f16ScalesAreFp16Values() {
        for (int t = 0; t < TRIES; t++) {
            var r = new SplittableRandom(400 + t);
            QuantScheme s0 = Rand.scheme(r);
            QuantScheme s = new QuantScheme(s0.kind(), s0.bits(), s0.groupSize(), ClipSearch.MSE, QuantScheme.ScaleFormat.F16);
            int rows = 1 + r.nextInt(4), cols = 1 + r.nextInt(70);
            float[] w = Rand.weights(r, rows, cols);
            QuantizedLinear q = Rtn.quantize(w, rows, cols, s);
            for (int g = 0; g < q.scales().length; g++) {
                float sc = q.scales()[g];
                assertEquals(sc, Float.float16ToFloat(Float.floatToFloat16(sc)), 0f, "try " + t + " scale " + g);
            }
            for (int i = 0; i < w.length; i++) {
                int row = i / cols, c = i % cols, k = row * q.groups() + q.group(c);
                assertEquals(Grid.code(s.kind(), w[i], q.scales()[k], q.zeros()[k], s.kind().minCode(), s.maxq()), q.code(row, c),
                        "try " + t + " code " + i);
            }
        }
    }
}
