package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.RowChunks;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.ThreadSlot;
import java.lang.foreign.MemorySegment;

/**
 * The Vector API implementation of {@link GemmKernel}; loaded reflectively, only when the
 * {@code jdk.incubator.vector} module is present. Picks a path per call:
 * <ul>
 *   <li>weights with contiguous rows (unit k stride) and m ≤ max({@link #SMALL_M}, {@link GemmKernel#ROW_EXACT_MAX})
 *       (both 16 by default): the dot-product form ({@code MatVecVector}), one pass over the weights, parallel over
 *       weight rows (decode and batched decode); each output row is computed exactly as that row alone;
 *   <li>weights with contiguous rows and larger m: the transposed product ({@code GemmWeightStream}), weights
 *       as the broadcast operand in their stored order, parallel over weight rows. At 5632x2048 (GFLOP/s, F32,
 *       1 thread) the dot-product form gives 46/59/79 at m = 8/16/32 and this path 34/66/133; BF16 favoured
 *       the dot-product form up to m = 16 (93 against 70; measured before its 4 × 4 tiles and fixed-order sums
 *       replaced the 4 × 3 tiles and the even/odd BF16 kernel, not re-measured since);
 *   <li>B in native memory with unit n stride (ONNX's [in, out] weights seen transposed) and
 *       m ≤ {@value #FEW_ROWS_DEFAULT}: B read in place, no packing ({@code GemmFewRows}). MiniLM batch 1:
 *       213 → 347 sentences/s. Heap B (activations, as in attention's P·V) stays on the packed path: one
 *       kernel call site that sees heap and native segments loses its JIT profile (128-token passages ran 6x
 *       slower when they shared it). Larger m stays packed too (a 128-token passage: 49 against 39/s);
 *   <li>otherwise (other strides, {@code matmul} a·b) the packed, cache-blocked GEMM ({@code GemmPacked}),
 *       parallel over column blocks of C (or row blocks when C is narrow).
 * </ul>
 * Problems under {@value #PARALLEL_MIN_FLOPS} flops run on the calling thread.
 */
public final class GemmVector implements GemmKernel {
    /** Largest m that takes the dot-product path. */
    public static final int SMALL_M = Integer.getInteger("dev.interlayer.gemm.smallm", 16);
    static final int FEW_ROWS_DEFAULT = 16;
    /** Largest m for which native B with unit n stride is read in place ({@code GemmFewRows}) instead of packed. */
    static final int FEW_ROWS_M = Integer.getInteger("dev.interlayer.gemm.fewrows", FEW_ROWS_DEFAULT);
    static final long PARALLEL_MIN_FLOPS = 1L << 18;
    /** Weights with contiguous rows and m above {@link #SMALL_M} take {@link GemmWeightStream} (off: the BLIS layout). */
    static final boolean WEIGHT_STREAM = !Boolean.getBoolean("dev.interlayer.gemm.blis");
    /** {@link #gemms} packs activations once for all its weights (off, for comparisons: one {@link #gemm} each). */
    static final boolean SHARED_PACK = !Boolean.getBoolean("dev.interlayer.gemm.ws.packeach");

    /** Public no-argument constructor for reflective loading. */
    public GemmVector() {
    }

    @Override
    public String name() {
        return "simd-" + GemmSpecies.F.vectorBitSize();
    }

    @Override
    public void gemm(int m, int n, int k, float[] a, int aOff, int lda,
                     MemorySegment b, DType bType, long bOff, long bsn, long bsk,
                     float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            for (int i = 0; i < m; i++) {
                java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
            return;
        }
        int kind = GemmSpecies.kind(bType);
        long flops = 2L * m * n * k;
        int threads = flops < PARALLEL_MIN_FLOPS ? 1 : ComputePool.threads();
        if (bsk == 1 && m <= Math.max(SMALL_M, ROW_EXACT_MAX)) {
            // Chunks of whole 4-row tiles; a few per thread so a slow core does not hold the rest up.
            int tiles = (n + 3) / 4;
            int chunks = Math.min(tiles, threads == 1 ? 1 : threads * 4);
            if (chunks <= 1) {          // on this thread: no lambda, nothing allocated per token
                MatVecVector.rows(m, k, a, aOff, lda, kind, b, bOff, bsn, c, cOff, ldc, 0, n);
                return;
            }
            RowsTask task = RowChunks.lease(RowsTask.SLOT, RowsTask::new);
            task.kind = kind;
            task.activations(m, a, aOff, lda).weights(b, bOff, bsn).output(c, cOff, ldc)
                    .run(RowsTask.SLOT, n, k, 4, tiles, chunks);
            return;
        }
        if (bsn == 1 && m <= FEW_ROWS_M && b.isNative()) {
            GemmFewRows.gemm(m, n, k, a, aOff, lda, kind, b, bOff, bsk, c, cOff, ldc, threads);
            return;
        }
        if (bsk == 1 && WEIGHT_STREAM) {
            GemmWeightStream.gemm(m, n, k, a, aOff, lda, kind, b, bOff, bsn, c, cOff, ldc, threads);
            return;
        }
        int nr = GemmPacked.NR, mr = GemmPacked.MR;
        int nPanels = (n + nr - 1) / nr, mPanels = (m + mr - 1) / mr;
        boolean splitN = nPanels >= 2 * threads || nPanels >= mPanels;
        int parts = Math.max(1, Math.min(threads, splitN ? nPanels : mPanels));
        if (parts == 1) {
            GemmPacked.block(k, a, aOff, lda, kind, b, bOff, bsn, bsk, c, cOff, ldc, 0, m, 0, n);
            return;
        }
        ComputePool.parallelFor(parts, t -> {
            if (splitN) {
                int j0 = (int) ((long) nPanels * t / parts) * nr, j1 = Math.min(n, (int) ((long) nPanels * (t + 1) / parts) * nr);
                GemmPacked.block(k, a, aOff, lda, kind, b, bOff, bsn, bsk, c, cOff, ldc, 0, m, j0, j1);
            } else {
                int i0 = (int) ((long) mPanels * t / parts) * mr, i1 = Math.min(m, (int) ((long) mPanels * (t + 1) / parts) * mr);
                GemmPacked.block(k, a, aOff, lda, kind, b, bOff, bsn, bsk, c, cOff, ldc, i0, i1, 0, n);
            }
        });
    }

    /**
     * Products that would each take {@link GemmWeightStream} (same dtype and shape, unit k stride, m above the
     * dot-product path's) run through one call that packs each activation block once for all of them: the
     * same kernels on the same packed values, so each output equals {@link #gemm}'s bit for bit. Others: one
     * {@link #gemm} each.
     */
    @Override
    public void gemms(int m, int k, float[] a, int aOff, int lda, Tensor[] ws, Tensor[] outs) {
        if (!sharedStream(m, k, ws)) {
            GemmKernel.super.gemms(m, k, a, aOff, lda, ws, outs);
            return;
        }
        int n = ws[0].dim(0);
        int threads = 2L * m * n * k < PARALLEL_MIN_FLOPS ? 1 : ComputePool.threads();
        GemmWeightStream.Product[] ps = new GemmWeightStream.Product[ws.length];
        for (int i = 0; i < ws.length; i++) {
            Tensor w = ws[i], c = outs[i];
            ps[i] = new GemmWeightStream.Product(w.segment(), w.offset(), w.stride(0), c.heapFloats(),
                    GemmKernel.heapIndex(c), Math.toIntExact(c.stride(0)));
        }
        GemmWeightStream.gemms(m, n, k, a, aOff, lda, GemmSpecies.kind(ws[0].dtype()), ps, threads);
    }

    /** Whether {@link #gemm} would send every one of these products to {@link GemmWeightStream} with equal n and kind. */
    private static boolean sharedStream(int m, int k, Tensor[] ws) {
        if (!SHARED_PACK || !WEIGHT_STREAM || k == 0 || m <= Math.max(SMALL_M, ROW_EXACT_MAX) || ws.length == 0) {
            return false;
        }
        Tensor w0 = ws[0];
        for (Tensor w : ws) {
            if (w.stride(1) != 1 || w.dim(0) == 0 || w.dim(0) != w0.dim(0) || w.dtype() != w0.dtype()
                    || (w.stride(0) == 1 && m <= FEW_ROWS_M && w.segment().isNative())) {
                return false;
            }
        }
        return true;
    }

    /**
     * All products in one region: chunks of whole 4-row tiles over the concatenated rows of ws, so a
     * chunk may end in one matrix and continue in the next. One thread (or a small problem): a plain loop,
     * nothing allocated.
     */
    @Override
    public void matvecs(int k, float[] a, int aOff, Tensor[] ws, Tensor[] outs) {
        long rows = 0;
        int tiles = 0;
        for (Tensor w : ws) {
            rows += w.dim(0);
            tiles += (w.dim(0) + 3) / 4;
        }
        int threads = 2 * rows * k < PARALLEL_MIN_FLOPS ? 1 : ComputePool.threads();
        int chunks = Math.min(tiles, threads == 1 ? 1 : threads * 4);
        if (chunks <= 1) {
            for (int i = 0; i < ws.length; i++) {
                decode(k, a, aOff, ws[i], outs[i], 0, ws[i].dim(0));
            }
            return;
        }
        MatvecsTask task = RowChunks.lease(MatvecsTask.SLOT, MatvecsTask::new);
        task.ws = ws;
        task.outs = outs;
        task.activations(1, a, aOff, k).run(MatvecsTask.SLOT, tiles, k, 1, tiles, chunks);
    }

    // The chunk bodies of the two decode-time parallel loops (RowChunks: reusable per-thread objects rather than
    // capturing lambdas, one allocation per matrix-vector product, ~100 per decode step).

    /** A chunk of the small-M path: weight rows of whole 4-row tiles. */
    private static final class RowsTask extends RowChunks {
        private static final ThreadSlot<RowsTask> SLOT = new ThreadSlot<>();
        private int kind;

        @Override
        public void accept(int ch) {
            MatVecVector.rows(m, k, a, aOff, lda, kind, w, wOff, wStride, c, cOff, ldc, from(ch), to(ch));
        }
    }

    /**
     * A chunk of {@link #matvecs}: 4-row tiles [t0, t1) of the concatenated rows of every weight (the loop runs over
     * tiles, one a "row"), so a chunk may end in one matrix and continue in the next. Only A of the operands is set.
     */
    private static final class MatvecsTask extends RowChunks {
        private static final ThreadSlot<MatvecsTask> SLOT = new ThreadSlot<>();
        private Tensor[] ws, outs;

        @Override
        protected void clear() {
            ws = outs = null;
        }

        @Override
        public void accept(int ch) {
            int t0 = from(ch), t1 = to(ch);
            for (int i = 0, base = 0; i < ws.length && base < t1; i++) {
                int n = ws[i].dim(0), nt = (n + 3) / 4;
                int lo = Math.max(t0, base), hi = Math.min(t1, base + nt);
                if (lo < hi) {
                    decode(k, a, aOff, ws[i], outs[i], (lo - base) * 4, Math.min(n, (hi - base) * 4));
                }
                base += nt;
            }
        }
    }

    // c[0, j] = w[j]·a for j in [j0, j1) (m = 1: MatVecVector's 2-row decode tiles).
    private static void decode(int k, float[] a, int aOff, Tensor w, Tensor c, int j0, int j1) {
        MatVecVector.decodeRows(k, a, aOff, GemmSpecies.kind(w.dtype()), w.segment(), w.offset(), w.stride(0),
                c.heapFloats(), GemmKernel.heapIndex(c), j0, j1);
    }
}
