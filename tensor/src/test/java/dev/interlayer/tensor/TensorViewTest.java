package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Views read the same values as an explicit copy computed here from index arithmetic on the
 * original row-major array (the independent reference), for seeded random shapes.
 */
class TensorViewTest {
    private static final int TRIES = 200;

    private static float[] iota(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = i * 0.5f - 3;
        }
        return a;
    }

    // Value at multi-index idx of a row-major array with dims d.
    private static float at(float[] a, int[] d, int... idx) {
        int off = 0;
        for (int i = 0; i < d.length; i++) {
            off = off * d[i] + idx[i];
        }
        return a[off];
    }

    private static int[] randomDims(SplittableRandom rng, int rank) {
        int[] d = new int[rank];
        for (int i = 0; i < rank; i++) {
            d[i] = 1 + rng.nextInt(5);
        }
        return d;
    }

    // Every element of view v equals ref(idx), visiting all indices of v.
    private interface Ref {
        float at(int[] idx);
    }

    private static void assertView(String what, Tensor v, Ref ref) {
        float[] copy = v.copy().toFloatArray();
        int[] idx = new int[v.rank()];
        for (int k = 0; k < copy.length; k++) {
            float e = ref.at(idx);
            assertEquals(e, v.getFloat(idx), what + " getFloat at " + java.util.Arrays.toString(idx));
            assertEquals(e, copy[k], what + " copy at " + java.util.Arrays.toString(idx));
            for (int i = idx.length - 1; i >= 0; i--) {
                if (++idx[i] < v.dim(i)) {
                    break;
                }
                idx[i] = 0;
            }
        }
    }

    @Test
    void viewsReadTheSameValuesAsAnExplicitCopy() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int t = 0; t < TRIES; t++) {
            int rank = 1 + rng.nextInt(4);
            int[] d = randomDims(rng, rank);
            int n = (int) Shape.of(d).size();
            float[] a = iota(n);
            Tensor x = Tensor.wrap(a, Shape.of(d));
            String seed = "try " + t + " dims " + java.util.Arrays.toString(d);

            int ax = rng.nextInt(rank);
            int lo = rng.nextInt(d[ax]), hi = lo + rng.nextInt(d[ax] - lo + 1);
            assertView(seed + " slice(" + ax + "," + lo + "," + hi + ")", x.slice(ax, lo, hi), idx -> {
                int[] j = idx.clone();
                j[ax] += lo;
                return at(a, d, j);
            });

            int sel = rng.nextInt(d[ax]);
            if (rank > 1) {
                assertView(seed + " select(" + ax + "," + sel + ")", x.select(ax, sel), idx -> {
                    int[] j = new int[rank];
                    for (int i = 0, k = 0; i < rank; i++) {
                        j[i] = i == ax ? sel : idx[k++];
                    }
                    return at(a, d, j);
                });
            }

            int b = rng.nextInt(rank);
            int[] perm = new int[rank];
            for (int i = 0; i < rank; i++) {
                perm[i] = i;
            }
            for (int i = rank - 1; i > 0; i--) { // Fisher-Yates
                int j = rng.nextInt(i + 1), tmp = perm[i];
                perm[i] = perm[j];
                perm[j] = tmp;
            }
            assertView(seed + " permute" + java.util.Arrays.toString(perm), x.permute(perm), idx -> {
                int[] j = new int[rank];
                for (int i = 0; i < rank; i++) {
                    j[perm[i]] = idx[i];
                }
                return at(a, d, j);
            });
            assertView(seed + " transpose(" + ax + "," + b + ")", x.transpose(ax, b), idx -> {
                int[] j = idx.clone();
                j[ax] = idx[b];
                j[b] = idx[ax];
                return at(a, d, j);
            });

            // expand: set one axis to 1 by selecting, unsqueeze, then broadcast back plus a new leading axis.
            Tensor one = x.slice(ax, sel, sel + 1);
            int[] target = new int[rank + 1];
            target[0] = 2;
            System.arraycopy(d, 0, target, 1, rank);
            assertView(seed + " expand", one.expand(Shape.of(target)), idx -> {
                int[] j = java.util.Arrays.copyOfRange(idx, 1, rank + 1);
                j[ax] = sel;
                return at(a, d, j);
            });

            // reshape of a contiguous tensor to a flat vector and back: same row-major order.
            assertView(seed + " reshape", x.reshape(n), idx -> a[idx[0]]);
            assertView(seed + " reshape(-1)", x.reshape(-1, d[rank - 1]), idx -> a[idx[0] * d[rank - 1] + idx[1]]);
        }
    }

    @Test
    void contiguousCopiesOnlyWhenNeeded() {
        Tensor x = Tensor.wrap(iota(24), Shape.of(2, 3, 4));
        assertSame(x, x.contiguous());
        assertSame(x.segment(), x.slice(0, 1, 2).contiguous().segment()); // a leading slice stays contiguous
        Tensor t = x.transpose(1, 2);
        assertFalse(t.isContiguous());
        Tensor c = t.contiguous();
        assertNotSame(t, c);
        assertTrue(c.isContiguous());
        assertArrayEquals(t.toFloatArray(), c.toFloatArray());
        Tensor col = x.slice(2, 1, 2);
        assertFalse(col.isContiguous());
        assertTrue(Tensor.zeros(0, 5).isContiguous());
        assertThrows(IllegalStateException.class, () -> t.reshape(24));
    }

    @Test
    void viewsShareMemory() {
        float[] a = iota(12);
        Tensor x = Tensor.wrap(a, Shape.of(3, 4));
        x.transpose(0, 1).setFloat(99f, 2, 1); // element [1, 2] of x
        assertEquals(99f, a[6]);
        x.select(0, 2).setFloat(-7f, 3);
        assertEquals(-7f, a[11]);
    }

    @Test
    void outOfRangeMessagesNameIndexAndBound() {
        Tensor x = Tensor.zeros(2, 3);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> x.getFloat(1, 3));
        assertTrue(e.getMessage().contains("index 3") && e.getMessage().contains("size 3"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class, () -> x.select(0, 5));
        assertTrue(e.getMessage().contains("index 5") && e.getMessage().contains("size 2"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class, () -> x.slice(1, 1, 4));
        assertTrue(e.getMessage().contains("[1, 4)") && e.getMessage().contains("size 3"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class, () -> x.getFloat(-1, 0));
        assertTrue(e.getMessage().contains("index -1"), e.getMessage());
        ShapeMismatchException s = assertThrows(ShapeMismatchException.class, () -> x.reshape(4, 2));
        assertTrue(s.getMessage().contains("[2, 3]") && s.getMessage().contains("[4, 2]"), s.getMessage());
        s = assertThrows(ShapeMismatchException.class, () -> x.expand(Shape.of(4, 3)));
        assertTrue(s.getMessage().contains("expand") && s.getMessage().contains("[4, 3]"), s.getMessage());
    }
}
