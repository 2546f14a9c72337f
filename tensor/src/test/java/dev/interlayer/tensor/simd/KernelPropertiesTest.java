package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.Fixtures.EPS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Binary;
import dev.interlayer.tensor.Fixtures;
import dev.interlayer.tensor.Kernels;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.SoftmaxOptions;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.kernel.ScalarKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * Invariants that hold for all inputs, for the scalar oracle and every SIMD width, on a small seeded
 * harness: TRIES random cases each; a failure reports kernel, seed, try index and case.
 */
class KernelPropertiesTest {
    private static final int TRIES = 60;
    private static final long SEED = 0xC0FFEEL;
    private static final List<Kernels> ALL = new ArrayList<>();

    static {
        ALL.add(new ScalarKernels());
        for (int w : Fixtures.WIDTHS) {
            ALL.add(new SimdKernels(w));
        }
    }

    private interface Case {
        void run(Kernels k, SplittableRandom rng, String where);
    }

    private static void forAll(String property, Case c) {
        for (Kernels k : ALL) {
            SplittableRandom master = new SplittableRandom(SEED ^ property.hashCode());
            for (int t = 0; t < TRIES; t++) {
                long seed = master.nextLong();
                c.run(k, new SplittableRandom(seed), property + " on " + k.name() + " seed=" + Long.toHexString(seed)
                        + " try " + t);
            }
        }
    }

    private static int size(SplittableRandom rng) {
        return 1 + rng.nextInt(rng.nextBoolean() ? 40 : 3000);
    }

    @Test
    void softmaxSumsToOneAndIsShiftInvariant() {
        forAll("softmax", (k, rng, where) -> {
            int n = size(rng);
            float[] x = Fixtures.gaussian(rng, n, 1 + rng.nextInt(20));
            float shift = (float) (rng.nextDouble(-50, 50));
            float[] p = k.softmax(Tensor.wrap(x), SoftmaxOptions.NONE, Tensor.zeros(n)).toFloatArray();
            float[] xs = x.clone();
            for (int i = 0; i < n; i++) {
                xs[i] += shift;
            }
            float[] ps = k.softmax(Tensor.wrap(xs), SoftmaxOptions.NONE, Tensor.zeros(n)).toFloatArray();
            double big = 0; // the largest |logit| either way: exp sees x - max with absolute error ~u·big
            for (int i = 0; i < n; i++) {
                big = Math.max(big, Math.abs(x[i]) + Math.abs(xs[i]));
            }
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += p[i];
                assertTrue(p[i] >= 0 && p[i] <= 1, where + ": p[" + i + "] = " + p[i]);
                // Shifting rounds x + c and x - max (absolute errors ~u·big in the exponent), moving p by that
                // relative amount, on top of the (n + 8)u of each softmax.
                double tol = (2.0 * n + 16 + 8 * big) * EPS * p[i] + 1e-37;
                assertEquals(p[i], ps[i], tol, where + " shift " + shift + " at " + i);
            }
            // Each p carries relative error (n + 8)u; their sum therefore is within (n + 8)u of 1.
            assertEquals(1.0, sum, (2.0 * n + 8) * EPS, where + " n=" + n);
        });
    }

    @Test
    void fullyMaskedRowsAreZerosAndCausalRowsIgnoreTheFuture() {
        forAll("masked softmax", (k, rng, where) -> {
            int t = 1 + rng.nextInt(12);
            float[] x = Fixtures.gaussian(rng, t * t, 3);
            float[] mask = new float[t * t];
            int dead = rng.nextInt(t);
            for (int c = 0; c < t; c++) {
                mask[dead * t + c] = Float.NEGATIVE_INFINITY;
            }
            SoftmaxOptions o = new SoftmaxOptions(1f, 0f, Tensor.wrap(mask, Shape.of(t, t)), true, 0, 0);
            float[] p = k.softmax(Tensor.wrap(x, Shape.of(t, t)), o, Tensor.zeros(t, t)).toFloatArray();
            for (int r = 0; r < t; r++) {
                double sum = 0;
                for (int c = 0; c < t; c++) {
                    float v = p[r * t + c];
                    if (r == dead || c > r) {
                        assertEquals(0f, v, where + " [" + r + "," + c + "] must be 0");
                    }
                    sum += v;
                }
                if (r != dead) {
                    assertEquals(1.0, sum, 1e-5, where + " row " + r);
                }
            }
        });
    }

    @Test
    void rmsNormIsScaleInvariant() {
        forAll("rmsNorm scale invariance", (k, rng, where) -> {
            int n = size(rng);
            float[] x = Fixtures.gaussian(rng, n, 1);
            float c = (float) Math.scalb(1.0, rng.nextInt(-8, 9)) * (float) rng.nextDouble(0.5, 1); // any c > 0
            float[] xc = x.clone();
            for (int i = 0; i < n; i++) {
                xc[i] *= c;
            }
            float[] a = k.rmsNorm(Tensor.wrap(x), null, 0f, false, Tensor.zeros(n)).toFloatArray();
            float[] b = k.rmsNorm(Tensor.wrap(xc), null, 0f, false, Tensor.zeros(n)).toFloatArray();
            double ms = 0;
            for (int i = 0; i < n; i++) {
                // eps = 0: exactly invariant up to float rounding, relative (n/2 + 6)u per output (see SimdKernelsTest).
                assertEquals(a[i], b[i], (n + 12) * EPS * Math.abs(a[i]) + 1e-30, where + " c=" + c + " at " + i);
                ms += (double) a[i] * a[i];
            }
            assertEquals(1.0, ms / n, (n + 12) * EPS, where + ": unit RMS before scaling");
        });
    }

    @Test
    void ropePreservesNormsAndComposes() {
        forAll("rope", (k, rng, where) -> {
            int hd = 2 * (1 + rng.nextInt(70));
            int rot = 2 * (1 + rng.nextInt(hd / 2));
            Rope.Pairing pairing = rng.nextBoolean() ? Rope.Pairing.HALF_SPLIT : Rope.Pairing.INTERLEAVED;
            Rope rope = Rope.standard(hd, rot, 10000.0, pairing);
            int p = rng.nextInt(2000), q = rng.nextInt(2000);
            float[] x = Fixtures.gaussian(rng, hd, 1);
            float[] once = k.rope(Tensor.wrap(x, Shape.of(1, hd)), rope, new int[] {p + q}, Tensor.zeros(1, hd)).toFloatArray();
            Tensor twice = Tensor.wrap(x.clone(), Shape.of(1, hd));
            k.rope(twice, rope, new int[] {p}, twice);
            k.rope(twice, rope, new int[] {q}, twice);
            float[] tw = twice.toFloatArray();
            double n0 = 0, n1 = 0;
            for (int i = 0; i < hd; i++) {
                n0 += (double) x[i] * x[i];
                n1 += (double) once[i] * once[i];
            }
            // cos/sin of p·θ are rounded to float (u each) and the rotation adds ~3u: relative norm error ~8u.
            assertEquals(Math.sqrt(n0), Math.sqrt(n1), 8 * EPS * Math.sqrt(n0) + 1e-30, where + " norm");
            // Composition: angles p·θ + q·θ vs (p+q)·θ are each rounded in float cos/sin (error ~ u per step),
            // applied twice: absolute error per element <= ~16u·|pair norm|; bound with the vector norm.
            for (int i = 0; i < hd; i++) {
                assertEquals(once[i], tw[i], 16 * EPS * Math.sqrt(n0) + 1e-30,
                        where + " " + pairing + " hd=" + hd + " rot=" + rot + " p=" + p + " q=" + q + " at " + i);
            }
            for (int i = rot; i < hd && pairing == Rope.Pairing.HALF_SPLIT; i++) {
                assertEquals(x[i], once[i], where + ": dims past rotaryDim pass through");
            }
        });
    }

    @Test
    void broadcastingEqualsExplicitExpand() {
        forAll("broadcast", (k, rng, where) -> {
            int rank = 1 + rng.nextInt(3);
            int[] d = new int[rank];
            for (int i = 0; i < rank; i++) {
                d[i] = 1 + rng.nextInt(rng.nextBoolean() ? 4 : 40);
            }
            int[] da = d.clone(), db = d.clone();
            for (int i = 0; i < rank; i++) {
                if (rng.nextInt(3) == 0) {
                    da[i] = 1;
                } else if (rng.nextInt(3) == 0) {
                    db[i] = 1;
                }
            }
            int dropB = rng.nextInt(rank); // b may also have fewer axes
            int[] dbShort = java.util.Arrays.copyOfRange(db, dropB, rank);
            Shape s = Shape.of(d);
            Tensor a = Tensor.wrap(Fixtures.gaussian(rng, (int) Shape.of(da).size(), 1), Shape.of(da));
            Tensor b = Tensor.wrap(Fixtures.gaussian(rng, (int) Shape.of(dbShort).size(), 1), Shape.of(dbShort));
            Shape out = dev.interlayer.tensor.kernel.Broadcast.shape("test", a.shape(), b.shape());
            for (Binary op : Binary.values()) {
                float[] implicit = k.binary(op, a, b, Tensor.zeros(out)).toFloatArray();
                float[] explicit = k.binary(op, a.expand(out).copy(), b.expand(out).copy(), Tensor.zeros(out)).toFloatArray();
                assertArrayEquals(explicit, implicit, 0f, where + " " + op + " " + a.shape() + " with " + b.shape());
            }
            assertEquals(s.rank(), out.rank(), where);
        });
    }

    @Test
    void ropeIsLinearAndZeroPositionIsIdentity() {
        forAll("rope identity", (k, rng, where) -> {
            int hd = 2 * (1 + rng.nextInt(40));
            Rope rope = Rope.standard(hd, hd, 10000.0, rng.nextBoolean() ? Rope.Pairing.HALF_SPLIT : Rope.Pairing.INTERLEAVED);
            float[] x = Fixtures.gaussian(rng, hd, 1);
            float[] y = k.rope(Tensor.wrap(x, Shape.of(1, hd)), rope, new int[] {0}, Tensor.zeros(1, hd)).toFloatArray();
            assertArrayEquals(x, y, 0f, where + ": cos 0 = 1 and sin 0 = 0 exactly");
        });
    }


    // Norm invariants: with unit gain, RMSNorm gives mean(y²) = mean(x²)/(mean(x²) + ε) and LayerNorm variance
    // σ²/(σ² + ε); they pin where eps goes (inside the sqrt) without the oracle.

    @Test
    void rmsNormWithEpsHasTheDocumentedMeanSquare() {
        forAll("rmsNorm mean square", (k, rng, where) -> {
            int n = size(rng);
            float[] x = Fixtures.gaussian(rng, n, rng.nextDouble(0.01, 3));
            float eps = (float) rng.nextDouble(1e-6, 0.5);
            float[] y = k.rmsNorm(Tensor.wrap(x), null, eps, false, Tensor.zeros(n)).toFloatArray();
            double msx = 0, msy = 0;
            for (int i = 0; i < n; i++) {
                msx += (double) x[i] * x[i];
                msy += (double) y[i] * y[i];
            }
            msx /= n;
            msy /= n;
            // mean(y²) = mean(x²)/(mean(x²) + eps); relative error (n + 12)u as for the scale test.
            assertEquals(msx / (msx + eps), msy, (n + 12) * EPS, where + " eps=" + eps);
        });
    }

    @Test
    void onePlusWeightEqualsPlainWithShiftedGain() {
        forAll("rmsNorm (1+w)", (k, rng, where) -> {
            int n = size(rng);
            float[] x = Fixtures.gaussian(rng, n, 1), w = Fixtures.gaussian(rng, n, 0.2);
            float[] g = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = 1f + w[i]; // the same float rounding the kernel does
            }
            float[] a = k.rmsNorm(Tensor.wrap(x), Tensor.wrap(w), 1e-6f, true, Tensor.zeros(n)).toFloatArray();
            float[] b = k.rmsNorm(Tensor.wrap(x), Tensor.wrap(g), 1e-6f, false, Tensor.zeros(n)).toFloatArray();
            // Equal in float32 up to the sum of squares: two separate calls may reduce in different orders
            // (the Vector API's interpreted fallback vs its C2 intrinsic), which moves the shared scale by a
            // few ulp. 8 ulp relative; treating w as the gain (forgetting the 1) would be off by O(1).
            for (int i = 0; i < n; i++) {
                assertEquals(b[i], a[i], 16 * EPS * Math.max(1, Math.abs(b[i])), where + " at " + i);
            }
        });
    }

    @Test
    void layerNormIsShiftAndScaleInvariantWithTheDocumentedVariance() {
        forAll("layerNorm", (k, rng, where) -> {
            int n = 2 + rng.nextInt(2000);
            float[] x = Fixtures.gaussian(rng, n, rng.nextDouble(0.05, 3));
            float eps = (float) rng.nextDouble(1e-6, 0.3);
            float c = (float) rng.nextDouble(-4, 4);
            float[] xs = x.clone();
            for (int i = 0; i < n; i++) {
                xs[i] += c;
            }
            float[] y = k.layerNorm(Tensor.wrap(x), null, null, eps, Tensor.zeros(n)).toFloatArray();
            float[] ys = k.layerNorm(Tensor.wrap(xs), null, null, eps, Tensor.zeros(n)).toFloatArray();
            double mx = 0, vx = 0, my = 0, vy = 0, big = 0;
            for (int i = 0; i < n; i++) {
                mx += x[i];
                big = Math.max(big, Math.abs(x[i]) + Math.abs(c));
            }
            mx /= n;
            for (int i = 0; i < n; i++) {
                vx += (x[i] - mx) * (x[i] - mx);
                my += y[i];
            }
            vx /= n;
            my /= n;
            for (int i = 0; i < n; i++) {
                vy += (y[i] - my) * (y[i] - my);
            }
            vy /= n;
            double inv = 1 / Math.sqrt(vx + eps);
            for (int i = 0; i < n; i++) {
                // x + c is rounded (u·big absolute), then normalized: error ≲ (2n + 8)u·(|y| + big·inv).
                assertEquals(y[i], ys[i], (2.0 * n + 8) * EPS * (Math.abs(y[i]) + big * inv) + 1e-30,
                        where + " shift " + c + " at " + i);
            }
            assertEquals(0, my, (2.0 * n + 8) * EPS * (1 + big * inv), where + " mean");
            assertEquals(vx / (vx + eps), vy, (4.0 * n + 16) * EPS * (1 + big * inv), where + " variance, eps=" + eps);
        });
    }
}
