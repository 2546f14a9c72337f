package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.simd.GemmKernel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Ops.matmulT / Ops.matmul against the oracle ({@link GemmReference}) with the error bound stated in
 * {@link GemmCheck}: odd shapes, every weight dtype, 1 and 2 threads, strided views, read-only native
 * weights; plus properties (identity, (AB)ᵀ = BᵀAᵀ) and shape errors.
 */
class MatMulTest {
    private static final int THREADS = ComputePool.threads();

    @AfterEach
    void restoreThreads() {
        ComputePool.setThreads(THREADS);
    }

    static Stream<Arguments> dtypesAndThreads() {
        return Stream.of(DType.F32, DType.F16, DType.BF16).flatMap(d -> Stream.of(Arguments.of(d, 1), Arguments.of(d, 2)));
    }

    @ParameterizedTest(name = "{0} weights, {1} thread(s)")
    @MethodSource("dtypesAndThreads")
    void activeKernelMatchesOracle(DType dtype, int threads) {
        sweep(MatMul.ACTIVE, dtype, threads);
    }

    @ParameterizedTest(name = "{0} weights, 2 threads")
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void scalarKernelMatchesOracle(DType dtype) {
        sweep(GemmScalar.INSTANCE, dtype, 2);
    }

    private static void sweep(GemmKernel kernel, DType dtype, int threads) {
        ComputePool.setThreads(threads);
        double[] worst = {0};
        long seed = 1000L * dtype.ordinal() + threads;
        for (int[] s : GemmCheck.shapes(0xBEEF ^ seed, 8)) {
            assertNull(GemmCheck.checkMatmulT(kernel, dtype, s[0], s[1], s[2], seed++, worst));
            assertNull(GemmCheck.checkMatmul(kernel, dtype, s[0], s[1], s[2], seed++, worst));
        }
        System.out.printf("%s %s threads=%d: worst |fast - oracle| / bound = %.3f%n", kernel.name(), dtype, threads,
                worst[0]);
    }

    /**
     * BF16 decode cuts k into blocks of 2048 and adds each block's partial dot products to the output:
     * k on both sides of one and two block boundaries, with a k tail that is not a whole vector, row
     * counts that leave 1-3 rows after the 4-row tiles, 1 and 2 threads.
     */
    @ParameterizedTest(name = "{0} thread(s)")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void bf16DecodeAcrossKBlocksMatchesOracle(int threads) {
        ComputePool.setThreads(threads);
        double[] worst = {0};
        long seed = 4242L * threads;
        for (int k : new int[] {2047, 2048, 2049, 4096 + 33, 6150}) {
            for (int n : new int[] {1, 6, 131, 1027}) {
                assertNull(GemmCheck.checkMatmulT(MatMul.ACTIVE, DType.BF16, 1, n, k, seed++, worst));
            }
        }
        System.out.printf("BF16 decode k-blocks threads=%d: worst |fast - oracle| / bound = %.3f%n", threads, worst[0]);
    }

    /**
     * Decode on native weights at every byte misalignment a file can give (GGUF aligns tensors to 32
     * bytes; the kernels then take a scalar head so their vector loads are aligned): F32 and BF16, row
     * lengths that keep or break the alignment from row to row, k across the BF16 k-blocks, 1 and 2
     * threads, single and fused (several weights with different alignments sharing one x).
     */
    @ParameterizedTest(name = "{0} thread(s)")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void decodeOnMisalignedNativeWeightsMatchesOracle(int threads) {
        nativeSweep("misaligned native decode", threads, 99L, new DType[] {DType.F32, DType.BF16},
                new int[] {0, 4, 8, 32, 36, 60}, (arena, rng, dt, shift, worst) -> {
                    for (int k : new int[] {1, 7, 16, 40, 64, 2048 + 32, 2048 + 40, 4096 + 16, 6144 + 32}) {
                        Tensor x = GemmCheck.gaussian(rng, DType.F32, 1, k);
                        Tensor w = nativeAt(arena, GemmCheck.gaussian(rng, dt, 13, k), shift);
                        Tensor out = Tensor.zeros(1, 13);
                        MatMul.matmulT(x, w, out, MatMul.ACTIVE);
                        String err = GemmCheck.compare(x, w.transpose(0, 1), out, worst);
                        assertNull(err, dt + " k=" + k + " shift=" + shift + ": " + err);
                        Tensor w2 = nativeAt(arena, GemmCheck.gaussian(rng, dt, 6, k), (shift + 32) % 64);
                        Tensor o1 = Tensor.zeros(1, 13), o2 = Tensor.zeros(1, 6);
                        MatMul.matmulT(x, new Tensor[] {w, w2}, new Tensor[] {o1, o2});
                        assertNull(GemmCheck.compare(x, w.transpose(0, 1), o1, worst), dt + " fused w k=" + k);
                        assertNull(GemmCheck.compare(x, w2.transpose(0, 1), o2, worst), dt + " fused w2 k=" + k);
                    }
                });
    }

    /**
     * Prefill-sized products (m > 16: the weight-stream path, which widens weight rows into a buffer) on
     * read-only native weights at the misalignments a file can give: F32, F16 and BF16, k below one
     * vector, with a masked tail and across a row length that breaks alignment row to row, a last weight
     * group of 1 row (n = 13 = 12 + 1), 1 and 2 threads.
     */
    @ParameterizedTest(name = "{0} thread(s)")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void prefillOnMisalignedNativeWeightsMatchesOracle(int threads) {
        nativeSweep("misaligned native prefill", threads, 199L, new DType[] {DType.F32, DType.F16, DType.BF16},
                new int[] {0, 2, 4, 32, 36, 62}, (arena, rng, dt, shift, worst) -> {
                    for (int m : new int[] {17, 40, 44, 45}) { // 40, 44: dot-product tail of 8, 12 rows; 45: padded panel
                        for (int k : new int[] {7, 40, 2048 + 40}) {
                            assertNativeProduct(arena, rng, dt, m, 13, k, shift, false, worst);
                        }
                    }
                });
    }

    /**
     * A few activation rows against weights stored [in, out] as ONNX exports them (matmulT sees the
     * transposed view, unit n stride), read in place by GemmFewRows: rows of a wider matrix (ldb = n + 3),
     * read-only native at misaligned offsets, F32/F16/BF16; m from 1 to 16 (row tiles of 6 with a partial
     * last one), n with and without a partial column tile, k within one and across several k blocks
     * (KB = 256), 1 and 2 threads (whole column tiles per thread).
     */
    @ParameterizedTest(name = "{0} thread(s)")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void fewRowsOnInOutWeightsMatchOracle(int threads) {
        nativeSweep("few rows on [in, out] weights", threads, 311L, new DType[] {DType.F32, DType.F16, DType.BF16},
                new int[] {0, 2, 36}, (arena, rng, dt, shift, worst) -> {
                    for (int[] s : new int[][] {{1, 64, 5}, {5, 129, 300}, {6, 384, 384}, {7, 397, 40}, {10, 200, 600},
                            {16, 48, 513}}) {
                        assertNativeProduct(arena, rng, dt, s[0], s[1], s[2], shift, true, worst);
                    }
                });
    }

    /** One case of {@link #nativeSweep}: checks products on native weights of type dt at byte shift. */
    @FunctionalInterface
    private interface NativeCase {
        void check(Arena arena, SplittableRandom rng, DType dt, int shift, double[] worst);
    }

    /**
     * Runs {@code body} at {@code threads} threads for each weight type and each misalignment (bytes past a 64-byte
     * boundary) a file can give it: the shifts its element size divides. One arena and one random stream seeded by
     * {@code seed + threads} serve all cases; prints the worst |fast - oracle| / bound under {@code what}.
     */
    private static void nativeSweep(String what, int threads, long seed, DType[] dtypes, int[] shifts, NativeCase body) {
        ComputePool.setThreads(threads);
        double[] worst = {0};
        var rng = new SplittableRandom(seed + threads);
        try (Arena arena = Arena.ofShared()) {
            for (DType dt : dtypes) {
                for (int shift : shifts) {
                    if (shift % dt.byteSize(1) == 0) {
                        body.check(arena, rng, dt, shift, worst);
                    }
                }
            }
        }
        System.out.printf("%s threads=%d: worst |fast - oracle| / bound = %.3f%n", what, threads, worst[0]);
    }

    /**
     * x [m, k]·wᵀ through the active kernel against the oracle, with w read-only native at {@code shift} bytes
     * past a 64-byte boundary: stored [n, k] (a linear layer's rows), or, with {@code inOut}, stored [k, n] as
     * rows of a wider matrix (ldb = n + 3) and seen transposed, as ONNX weights are. The output starts with
     * stale values, which must be overwritten.
     */
    private static void assertNativeProduct(Arena arena, SplittableRandom rng, DType dt, int m, int n, int k, int shift,
                                            boolean inOut, double[] worst) {
        Tensor x = GemmCheck.gaussian(rng, DType.F32, m, k);
        Tensor w = inOut
                ? nativeAt(arena, GemmCheck.gaussian(rng, dt, k, n + 3), shift).slice(1, 0, n).transpose(0, 1)
                : nativeAt(arena, GemmCheck.gaussian(rng, dt, n, k), shift);
        Tensor out = Tensor.zeros(m, n);
        out.copyFrom(GemmCheck.gaussian(rng, DType.F32, m, n));
        MatMul.matmulT(x, w, out, MatMul.ACTIVE);
        String err = GemmCheck.compare(x, w.transpose(0, 1), out, worst);
        assertNull(err, dt + (inOut ? " [in, out]" : " [out, in]") + " m=" + m + " n=" + n + " k=" + k + " shift="
                + shift + ": " + err);
    }

    // A read-only native copy of t whose first element sits `shift` bytes past a 64-byte boundary.
    private static Tensor nativeAt(Arena arena, Tensor t, int shift) {
        long bytes = t.dtype().byteSize(t.size());
        MemorySegment seg = arena.allocate(bytes + 64, 64).asSlice(shift, bytes);
        Tensor n = Tensor.of(t.dtype(), t.shape(), seg);
        n.copyFrom(t);
        return Tensor.of(t.dtype(), t.shape(), seg.asReadOnly());
    }

    // ---- several weights, one input (fused Q/K/V, gate/up) ----

    static Stream<Arguments> kernelsAndThreads() {
        return Stream.of(MatMul.ACTIVE, GemmScalar.INSTANCE)
                .flatMap(k -> Stream.of(Arguments.of(k, 1), Arguments.of(k, 2)));
    }

    /**
     * outs[i] = x·ws[i]ᵀ for mixed dtypes and odd row counts (chunks cross matrix boundaries): within the
     * oracle bound, as is one matmulT per weight.
     */
    @ParameterizedTest(name = "{0}, {1} thread(s)")
    @MethodSource("kernelsAndThreads")
    void severalWeightsMatchOracleAndSingleCalls(GemmKernel kernel, int threads) {
        ComputePool.setThreads(threads);
        double[] worst = {0};
        long seed = 77L * threads;
        for (int[] dims : new int[][] {{1, 3, 5, 17}, {300, 2, 130, 7}, {2048, 1, 129, 64}, {33, 1000, 1, 5}, {4129, 7, 9, 130}}) {
            int k = dims[0];
            for (int m : new int[] {1, 3}) {               // m = 1: one region; m = 3: one matmulT per weight
                var rng = new SplittableRandom(seed++);
                Tensor x = GemmCheck.gaussian(rng, DType.F32, m, k);
                DType[] types = {DType.BF16, DType.F32, DType.F16};
                Tensor[] ws = new Tensor[3], outs = new Tensor[3];
                for (int i = 0; i < 3; i++) {
                    ws[i] = GemmCheck.gaussian(rng, types[i], dims[i + 1], k);
                    outs[i] = Tensor.zeros(Shape.of(m, dims[i + 1]));
                    outs[i].copyFrom(GemmCheck.gaussian(rng, DType.F32, m, dims[i + 1]));   // stale values
                }
                MatMul.matmulT(x, ws, outs, kernel);
                for (int i = 0; i < 3; i++) {
                    String err = GemmCheck.compare(x, ws[i].transpose(0, 1), outs[i], worst);
                    assertNull(err, kernel.name() + " w" + i + " k=" + k + " m=" + m + ": " + err);
                    Tensor single = Tensor.zeros(Shape.of(m, dims[i + 1]));
                    MatMul.matmulT(x, ws[i], single, kernel);
                    // Not bit-equal: the same kernel sums in the same order, but a Vector API lane reduction
                    // compiled by C1 and by C2 can round differently (seen: 1 ulp at k = 2048), and the two
                    // calls may run at different tiers. Both must meet the oracle bound.
                    String serr = GemmCheck.compare(x, ws[i].transpose(0, 1), single, worst);
                    assertNull(serr, kernel.name() + " single w" + i + " k=" + k + " m=" + m + ": " + serr);
                }
            }
        }
        System.out.printf("%s several weights threads=%d: worst |fast - oracle| / bound = %.3f%n", kernel.name(),
                threads, worst[0]);
    }

    @Test
    void severalWeightsRejectMismatches() {
        Tensor x = Tensor.zeros(Shape.of(1, 4));
        Tensor w = Tensor.zeros(Shape.of(3, 4)), bad = Tensor.zeros(Shape.of(3, 5));
        Tensor out = Tensor.zeros(Shape.of(1, 3));
        var e = assertThrows(ShapeMismatchException.class,
                () -> Ops.matmulT(x, new Tensor[] {w, bad}, new Tensor[] {out, out}));
        assertTrue(e.getMessage().contains("w1 [3, 5]"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> Ops.matmulT(x, new Tensor[] {w, w}, new Tensor[] {out}));
        assertTrue(e2.getMessage().contains("2 weights but 1 outputs"), e2.getMessage());
    }

    // ---- views and storage ----

    /**
     * Output and input as views of one array (as the layers' scratch buffers are): the same rows
     * (in place), rows shifted by part of a row (partial overlap) and disjoint rows. Overlapping outputs
     * must go through a temporary; disjoint ones are written directly. Each result is checked against
     * the oracle on a copy of the input taken before the call, and the rows outside out must be untouched.
     */
    @ParameterizedTest(name = "m={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 5, 40})
    void outputSharingTheInputArrayMatchesOracle(int m) {
        int k = 24, n = 24;
        var rng = new SplittableRandom(31 + m);
        Tensor w = GemmCheck.gaussian(rng, DType.F32, n, k);
        double[] worst = {0};
        for (int shift : new int[] {0, 7, -7, m * k, -m * k - 3}) {   // out starts `shift` floats after x
            float[] buf = new float[3 * m * k + 16];
            int xAt = m * k + 8, outAt = xAt + shift;
            for (int i = 0; i < buf.length; i++) {
                buf[i] = (float) rng.nextGaussian();
            }
            Tensor whole = Tensor.wrap(buf);
            Tensor x = whole.slice(0, xAt, xAt + m * k).reshape(m, k);
            Tensor out = whole.slice(0, outAt, outAt + m * n).reshape(m, n);
            Tensor xBefore = Tensor.zeros(m, k);
            xBefore.copyFrom(x);
            float[] before = buf.clone();
            MatMul.matmulT(x, w, out, MatMul.ACTIVE);
            assertNull(GemmCheck.compare(xBefore, w.transpose(0, 1), out, worst), "shift " + shift);
            for (int i = 0; i < buf.length; i++) {
                if (i < outAt || i >= outAt + m * n) {
                    assertEquals(before[i], buf[i], "shift " + shift + ": element " + i + " outside out changed");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void stridedViewsMatchOracle(DType dtype) {
        var rng = new SplittableRandom(7 + dtype.ordinal());
        double[] worst = {0};
        for (int[] s : new int[][] {{1, 37, 70}, {5, 33, 129}, {70, 50, 300}}) {
            int m = s[0], n = s[1], k = s[2];
            // x: a column window of a wider matrix (row stride k + 3) and a transposed view (unit row stride).
            Tensor xWide = GemmCheck.gaussian(rng, DType.F32, m, k + 3).slice(1, 2, 2 + k);
            Tensor xT = GemmCheck.gaussian(rng, DType.F32, k, m).transpose(0, 1);
            // w: rows of a wider matrix, and w stored as [k, n] seen through a transpose (k stride != 1).
            Tensor wWide = GemmCheck.gaussian(rng, dtype, n, k + 5).slice(1, 1, 1 + k);
            Tensor wT = GemmCheck.gaussian(rng, dtype, k, n).transpose(0, 1);
            for (Tensor x : new Tensor[] {xWide, xT}) {
                for (Tensor w : new Tensor[] {wWide, wT}) {
                    // out: a column window of a wider matrix, and a transposed view (goes through a temporary).
                    Tensor outWide = Tensor.zeros(m, n + 4).slice(1, 4, 4 + n);
                    Tensor outT = Tensor.zeros(n, m).transpose(0, 1);
                    for (Tensor out : new Tensor[] {outWide, outT}) {
                        Ops.matmulT(x, w, out);
                        assertNull(GemmCheck.compare(x, w.transpose(0, 1), out, worst),
                                () -> "x " + x + " w " + w + " out " + out);
                    }
                    Tensor out = Tensor.zeros(m, n);
                    Ops.matmul(x, w.transpose(0, 1), out);          // b = wᵀ is [k, n] with strides
                    assertNull(GemmCheck.compare(x, w.transpose(0, 1), out, worst), () -> "matmul " + x + " " + w);
                }
            }
        }
        System.out.printf("strided %s: worst ratio %.3f%n", dtype, worst[0]);
    }

    /**
     * Weights with no unit stride at all (w[n, k] = g[n, k, 2][.., .., 1]: bsn = 2k, bsk = 2) go through
     * packB's element-wise path, including an edge panel (n % 48 != 0) and a k tail; same oracle bound
     * as the sweeps (GemmCheck.compare: |fast - oracle| within the accumulated-rounding bound).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void weightsWithoutUnitStrideMatchOracle(DType dtype) {
        var rng = new SplittableRandom(17 + dtype.ordinal());
        double[] worst = {0};
        for (int[] s : new int[][] {{3, 50, 70}, {70, 100, 300}}) {
            int m = s[0], n = s[1], k = s[2];
            Tensor x = GemmCheck.gaussian(rng, DType.F32, m, k);
            Tensor w = GemmCheck.gaussian(rng, dtype, n, k, 2).select(2, 1);
            Tensor out = Tensor.zeros(m, n);
            Ops.matmulT(x, w, out);
            assertNull(GemmCheck.compare(x, w.transpose(0, 1), out, worst), () -> "m,n,k=" + m + "," + n + "," + k);
        }
        System.out.printf("no unit stride %s: worst ratio %.3f%n", dtype, worst[0]);
    }

    @Test
    void readOnlyNativeWeightsAndRank3Activations() {
        var rng = new SplittableRandom(11);
        Tensor x = GemmCheck.gaussian(rng, DType.F32, 2, 5, 64);          // [batch, tokens, k]
        Tensor heapW = GemmCheck.gaussian(rng, DType.BF16, 48, 64);       // [n, k]
        try (Arena arena = Arena.ofShared()) {
            Tensor nat = Tensor.allocate(arena, DType.BF16, heapW.shape());
            nat.copyFrom(heapW);
            Tensor w = Tensor.of(DType.BF16, heapW.shape(), nat.segment().asReadOnly());   // like a mapped file
            Tensor out = Tensor.zeros(2, 5, 48);
            Ops.matmulT(x, w, out);
            assertNull(GemmCheck.compare(x.reshape(10, 64), w.transpose(0, 1), out.reshape(10, 48), new double[1]));
        }
    }

    @Test
    void batchedMatmulMatchesPerBatchOracle() {
        var rng = new SplittableRandom(12);
        Tensor a = GemmCheck.gaussian(rng, DType.F32, 2, 3, 9, 20);
        Tensor b = GemmCheck.gaussian(rng, DType.F32, 3, 2, 20, 11).permute(1, 0, 2, 3);   // strided batch axes
        Tensor out = Tensor.zeros(2, 3, 9, 11);
        Ops.matmul(a, b, out);
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                Tensor ai = a.select(0, i).select(0, j), bi = b.select(0, i).select(0, j);
                assertNull(GemmCheck.compare(ai, bi, out.select(0, i).select(0, j), new double[1]), "batch " + i + "," + j);
            }
        }
    }

    @Test
    void outputAliasingAnInputIsComputedThroughATemporary() {
        var rng = new SplittableRandom(13);
        Tensor x = GemmCheck.gaussian(rng, DType.F32, 6, 6), w = GemmCheck.gaussian(rng, DType.F32, 6, 6);
        Tensor want = GemmReference.matmulT(x, w);
        Tensor x0 = x.copy();
        Ops.matmulT(x, w, x);                                     // out == x
        assertNull(GemmCheck.compare(x0, w.transpose(0, 1), x, new double[1]));
        assertEquals(want.getFloat(5, 5), x.getFloat(5, 5), 1e-4f);
    }

    // ---- properties ----

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void identityWeightsReturnTheInputExactly(DType dtype) {
        // Each output is one product x·1 plus exact zeros, so equality is exact on every path.
        var rng = new SplittableRandom(21);
        for (int[] s : new int[][] {{1, 129}, {7, 33}, {70, 300}}) {
            Tensor x = GemmCheck.gaussian(rng, DType.F32, s[0], s[1]);
            Tensor eye = Tensor.zeros(dtype, Shape.of(s[1], s[1]));
            for (int i = 0; i < s[1]; i++) {
                eye.setFloat(1f, i, i);
            }
            Tensor out = Tensor.zeros(s[0], s[1]);
            assertArrayEquals(x.toFloatArray(), Ops.matmulT(x, eye, out).toFloatArray(), "matmulT m,k=" + s[0] + "," + s[1]);
            assertArrayEquals(x.toFloatArray(), Ops.matmul(x, eye, out).toFloatArray(), "matmul m,k=" + s[0] + "," + s[1]);
        }
    }

    @Test
    void transposeOfProductIsProductOfTransposesReversed() {
        // (AB)ᵀ = BᵀAᵀ; both sides carry the GemmCheck bound, so they differ by at most twice of it.
        var rng = new SplittableRandom(22);
        for (int[] s : new int[][] {{3, 5, 7}, {33, 17, 129}, {100, 70, 300}}) {
            int m = s[0], n = s[1], k = s[2];
            Tensor a = GemmCheck.gaussian(rng, DType.F32, m, k), b = GemmCheck.gaussian(rng, DType.F32, k, n);
            Tensor ab = Ops.matmul(a, b, Tensor.zeros(m, n));
            Tensor btat = Ops.matmul(b.transpose(0, 1), a.transpose(0, 1), Tensor.zeros(n, m));
            Tensor scale = GemmReference.absProduct(a, b);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double bound = 2 * (k + 2) * GemmCheck.U * scale.getFloat(i, j);
                    float l = ab.getFloat(i, j), r = btat.getFloat(j, i);
                    assertTrue(Math.abs(l - r) <= bound, "[" + i + "," + j + "] " + l + " vs " + r + " bound " + bound);
                }
            }
        }
    }

    // ---- errors ----

    @Test
    void badShapesNameTheOpAndShapes() {
        Tensor x = Tensor.zeros(4, 8), w = Tensor.zeros(3, 9), out = Tensor.zeros(4, 3);
        var e = assertThrows(ShapeMismatchException.class, () -> Ops.matmulT(x, w, out));
        assertTrue(e.getMessage().contains("matmulT") && e.getMessage().contains("[4, 8]")
                && e.getMessage().contains("[3, 9]") && e.getMessage().contains("[4, 3]"), e.getMessage());
        var e2 = assertThrows(ShapeMismatchException.class,
                () -> Ops.matmulT(x, Tensor.zeros(3, 8), Tensor.zeros(5, 3)));
        assertTrue(e2.getMessage().contains("[5, 3]"), e2.getMessage());
        var e3 = assertThrows(ShapeMismatchException.class,
                () -> Ops.matmul(Tensor.zeros(2, 4, 8), Tensor.zeros(3, 8, 5), Tensor.zeros(2, 4, 5)));
        assertTrue(e3.getMessage().startsWith("matmul:") && e3.getMessage().contains("[3, 8, 5]"), e3.getMessage());
        var e4 = assertThrows(UnsupportedDTypeException.class,
                () -> Ops.matmulT(x, Tensor.zeros(DType.I32, Shape.of(3, 8)), out));
        assertTrue(e4.getMessage().contains("I32"), e4.getMessage());
    }
}
