package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Fixtures;
import dev.interlayer.tensor.Fixtures.Layout;
import dev.interlayer.tensor.Kernels;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.kernel.ScalarKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Embedding, concat, topK and topP: scalar and every SIMD width against references written here
 * (per-element getFloat loops and a boxed full sort), exact equality since nothing is rounded.
 */
class GatherSelectTest {
    private static final List<Kernels> ALL = new ArrayList<>();

    static {
        ALL.add(new ScalarKernels());
        for (int w : Fixtures.WIDTHS) {
            ALL.add(new SimdKernels(w));
        }
    }

    @Test
    void embeddingCopiesRowsForEveryTableLayout() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int d : new int[] {1, 7, 64, 129}) {
            int vocab = 50;
            float[] tv = Fixtures.gaussian(rng, vocab * d, 1);
            int[] ids = {0, 49, 3, 3, 17};
            for (Layout l : Layout.values()) {
                Tensor table = Fixtures.make(l, Shape.of(vocab, d), tv);
                float[] expected = new float[ids.length * d];
                for (int i = 0; i < ids.length; i++) {
                    for (int j = 0; j < d; j++) {
                        expected[i * d + j] = table.getFloat(ids[i], j); // F16/BF16 tables are already rounded
                    }
                }
                for (Kernels k : ALL) {
                    for (Layout ol : new Layout[] {Layout.HEAP, Layout.NATIVE, Layout.STRIDED}) {
                        Tensor out = Fixtures.out(ol, Shape.of(ids.length, d));
                        assertArrayEquals(expected, k.embedding(table, ids, out).toFloatArray(),
                                k.name() + " table " + l + " out " + ol + " d=" + d);
                    }
                }
            }
        }
    }

    @Test
    void embeddingRejectsOutOfRangeIdsBeforeWriting() {
        Tensor table = Tensor.zeros(10, 4);
        for (Kernels k : ALL) {
            Tensor out = Tensor.wrap(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, Shape.of(2, 4));
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> k.embedding(table, new int[] {2, 10}, out));
            assertTrue(e.getMessage().contains("id 10") && e.getMessage().contains("vocab size 10")
                    && e.getMessage().contains("position 1"), e.getMessage());
            assertEquals(1f, out.getFloat(0, 0), k.name() + ": nothing written on failure");
            e = assertThrows(IndexOutOfBoundsException.class, () -> k.embedding(table, new int[] {-1, 0}, out));
            assertTrue(e.getMessage().contains("id -1"), e.getMessage());
            ShapeMismatchException s = assertThrows(ShapeMismatchException.class,
                    () -> k.embedding(table, new int[] {1}, out));
            assertTrue(s.getMessage().contains("embedding") && s.getMessage().contains("[10, 4]")
                    && s.getMessage().contains("[2, 4]"), s.getMessage());
        }
    }

    @Test
    void concatAlongEveryAxisMatchesIndexArithmetic() {
        SplittableRandom rng = new SplittableRandom(9);
        int[] base = {3, 4, 5};
        for (int axis = 0; axis < 3; axis++) {
            int[] sizes = {2, 0, 3};
            Tensor[] ins = new Tensor[sizes.length];
            int total = 0;
            for (int i = 0; i < sizes.length; i++) {
                int[] d = base.clone();
                d[axis] = sizes[i];
                Layout l = Layout.values()[i % Layout.values().length];
                ins[i] = Fixtures.make(i == 2 ? Layout.STRIDED : l, Shape.of(d), Fixtures.gaussian(rng, (int) Shape.of(d).size(), 1));
                total += sizes[i];
            }
            int[] od = base.clone();
            od[axis] = total;
            Tensor expected = Tensor.zeros(od);
            int pos = 0;
            for (Tensor in : ins) {
                int[] idx = new int[3];
                for (long k = 0; k < in.size(); k++) {
                    int[] o = idx.clone();
                    o[axis] += pos;
                    expected.setFloat(in.getFloat(idx), o);
                    for (int i = 2; i >= 0; i--) {
                        if (++idx[i] < in.dim(i)) {
                            break;
                        }
                        idx[i] = 0;
                    }
                }
                pos += in.dim(axis);
            }
            for (Kernels k : ALL) {
                for (Layout ol : new Layout[] {Layout.HEAP, Layout.NATIVE, Layout.STRIDED}) {
                    Tensor out = Fixtures.out(ol, Shape.of(od));
                    assertArrayEquals(expected.toFloatArray(), k.concat(ins, axis - 3, out).toFloatArray(),
                            k.name() + " axis " + axis + " out " + ol);
                }
                int ax = axis, tot = total;
                Shape bad = Shape.of(od).with(axis, total + 1);
                ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                        () -> k.concat(ins, ax, Tensor.zeros(bad)));
                assertTrue(e.getMessage().contains("concat") && e.getMessage().contains("add up to " + tot), e.getMessage());
            }
        }
    }

    // Reference order: value descending, NaN last, ties to the lower index; boxed sort, no packing.
    private static Integer[] referenceOrder(float[] x) {
        Integer[] o = new Integer[x.length];
        for (int i = 0; i < x.length; i++) {
            o[i] = i;
        }
        Arrays.sort(o, Comparator.<Integer>comparingInt(i -> Float.isNaN(x[i]) ? 1 : 0)
                .thenComparing(i -> -(double) x[i] + 0.0) // + 0.0: -0 ties with +0
                .thenComparingInt(i -> i));
        return o;
    }

    private static float[] withTiesAndSpecials(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextInt(8) - 4; // many ties
            if (rng.nextInt(10) == 0) {
                x[i] = new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f}[rng.nextInt(5)];
            }
        }
        return x;
    }

    @Test
    void topKMatchesAFullSort() {
        SplittableRandom rng = new SplittableRandom(13);
        for (int t = 0; t < 200; t++) {
            int n = 1 + rng.nextInt(300);
            int k = rng.nextInt(n + 5);
            float[] x = rng.nextBoolean() ? withTiesAndSpecials(rng, n) : Fixtures.gaussian(rng, n, 1);
            Integer[] ref = referenceOrder(x);
            int m = Math.min(k, n);
            for (Kernels kern : ALL) {
                float[] vals = new float[k];
                int[] idx = new int[k];
                assertEquals(m, kern.topK(Fixtures.make(t % 2 == 0 ? Layout.HEAP : Layout.STRIDED, Shape.of(n), x), k, vals, idx));
                for (int i = 0; i < m; i++) {
                    assertEquals((int) ref[i], idx[i], kern.name() + " try " + t + " rank " + i + " of " + Arrays.toString(x));
                    assertEquals(x[ref[i]], vals[i], 0f);
                }
            }
        }
    }

    @Test
    void topPIsTheSmallestSortedPrefixReachingP() {
        SplittableRandom rng = new SplittableRandom(17);
        for (int t = 0; t < 200; t++) {
            int n = 1 + rng.nextInt(500);
            float[] logits = rng.nextBoolean() ? withTiesAndSpecials(rng, n) : Fixtures.gaussian(rng, n, 3);
            float[] probs = new float[n];
            double z = 0;
            for (int i = 0; i < n; i++) {
                probs[i] = Float.isNaN(logits[i]) ? 0 : (float) Math.exp(Math.max(-80, Math.min(logits[i], 80)) - 80);
                z += probs[i];
            }
            for (int i = 0; i < n; i++) {
                probs[i] = (float) (probs[i] / z);
            }
            float p = t % 10 == 0 ? 1f : (float) rng.nextDouble(0.01, 1);
            Integer[] ref = referenceOrder(probs);
            int expected = n;
            double mass = 0;
            for (int i = 0; i < n; i++) {
                mass += probs[ref[i]];
                if (mass >= p) {
                    expected = i + 1;
                    break;
                }
            }
            for (Kernels k : ALL) {
                int[] idx = new int[n];
                int m = k.topP(Tensor.wrap(probs), p, idx);
                assertEquals(expected, m, k.name() + " try " + t + " p=" + p);
                for (int i = 0; i < m; i++) {
                    assertEquals((int) ref[i], idx[i], k.name() + " try " + t + " rank " + i);
                }
            }
        }
        for (Kernels k : ALL) {
            assertThrows(IllegalArgumentException.class, () -> k.topP(Tensor.zeros(3), 0f, new int[3]));
            assertThrows(IllegalArgumentException.class, () -> k.topP(Tensor.zeros(3), Float.NaN, new int[3]));
            assertThrows(IllegalArgumentException.class, () -> k.topK(Tensor.zeros(3), -1, new float[3], new int[3]));
            assertThrows(ShapeMismatchException.class, () -> k.topK(Tensor.zeros(2, 3), 1, new float[3], new int[3]));
        }
    }

    @Test
    void embeddingFromF16TableRoundsLikeTheTable() {
        Tensor table = Tensor.zeros(DType.F16, Shape.of(2, 3));
        table.setFloat(0.1f, 1, 2);
        for (Kernels k : ALL) {
            Tensor out = k.embedding(table, new int[] {1}, Tensor.zeros(1, 3));
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.1f)), out.getFloat(0, 2), 0f, k.name());
        }
    }
}
