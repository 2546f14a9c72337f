package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.KIND_F32;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmSpecies.scalar;

import dev.interlayer.tensor.ComputePool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * C[m, n] = A[m, k]·B[k, n] for a few rows of A (m ≤ {@link GemmVector#SMALL_M}) and B contiguous along n,
 * read in place: {@code matmul} a·b and the weights of ONNX exports, which store a linear layer as
 * [in, out] (the transposed view w[n, k] then has unit n stride).
 *
 * <p>Why not {@link GemmPacked}: with ten rows of A, packing B (one full copy of the weights per call)
 * was 75% of a BERT sentence. Here each B row segment is loaded once per row tile straight from its
 * storage, widened if F16/BF16, and broadcast-multiplied by the A elements of that k step; nothing is
 * copied except the last, partial column tile.
 *
 * <p>Loops, outermost first: the threads' column ranges (whole tiles of NR = 4 vectors); KB steps of k;
 * NR-column tiles; MR = 6-row tiles of A; the micro-kernel, 6 × 4 vectors = 24 FMA accumulators, per k
 * step 4 vector loads of B and 6 broadcasts of A. The B strip of one tile and k block (KB × NR) stays in
 * L1 for the second row tile. A tile with fewer than 6 valid rows computes its last row again in the
 * missing ones (clamped addresses) and stores only the valid rows: wasted multiplies, but no branch in the
 * inner loop and no 1..5-row copies of the kernel.
 *
 * <p>The k block can be overridden for tuning with {@code dev.interlayer.gemm.fr.kb}.
 *
 * <p>The written-out micro-kernel {@link #micro} is generated at build time from
 * {@code tensor/src/main/codegen/templates/GemmFewRowsUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code GemmFewRowsUnrolled}.
 */
final class GemmFewRows extends GemmFewRowsUnrolled {
    static final int MR = 6;
    static final int NV = 4;
    static final int NR = NV * VL;
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT.withOrder(GemmSpecies.LE);
    static final int KB = Math.max(1, Integer.getInteger("dev.interlayer.gemm.fr.kb", 256));

    /**
     * One thread's copy of a partial column tile's B strip [KB][NR], zero padded. Native like mapped weights,
     * so the kernel's loads keep seeing one kind of segment (a heap one there costs its JIT profile).
     */
    private static final ThreadLocal<MemorySegment> EDGE_STRIP =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate((long) KB * NR * Float.BYTES, 64));
    /** One thread's C tile [MR][NR] for a partial column tile. */
    private static final ThreadLocal<float[]> EDGE_TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);

    private GemmFewRows() {
    }

    /**
     * C[i, j] = Σ_p A[i, p]·B[p, j] for i &lt; m, j &lt; n, p &lt; k; B element (p, j) at
     * {@code b[bOff + p*ldb + j]} in storage {@code kind}. Uses up to {@code threads} threads, splitting
     * whole column tiles.
     */
    static void gemm(int m, int n, int k, float[] a, int aOff, int lda, int kind, MemorySegment b, long bOff,
                     long ldb, float[] c, int cOff, int ldc, int threads) {
        int tiles = (n + NR - 1) / NR;
        int parts = Math.max(1, Math.min(threads, tiles));
        if (parts == 1) {
            columns(0, n, m, k, a, aOff, lda, kind, b, bOff, ldb, c, cOff, ldc);
            return;
        }
        ComputePool.parallelFor(parts, t -> columns(
                (int) ((long) tiles * t / parts) * NR, Math.min(n, (int) ((long) tiles * (t + 1) / parts) * NR),
                m, k, a, aOff, lda, kind, b, bOff, ldb, c, cOff, ldc));
    }

    /** Columns [j0, j1) of C (j0 a multiple of NR), every row. */
    private static void columns(int j0, int j1, int m, int k, float[] a, int aOff, int lda, int kind,
                                MemorySegment b, long bOff, long ldb, float[] c, int cOff, int ldc) {
        int fullEnd = j0 + (j1 - j0) / NR * NR;
        for (int pc = 0; pc < k; pc += KB) {
            int kb = Math.min(KB, k - pc);
            boolean accumulate = pc > 0;
            for (int j = j0; j < fullEnd; j += NR) {
                for (int i = 0; i < m; i += MR) {
                    micro(kb, Math.min(MR, m - i), a, aOff + i * lda + pc, lda, kind, b, bOff + pc * ldb + j, ldb,
                            c, cOff + i * ldc + j, ldc, accumulate);
                }
            }
            if (fullEnd < j1) {
                edgeTile(m, kb, j1 - fullEnd, a, aOff + pc, lda, kind, b, bOff + pc * ldb + fullEnd, ldb,
                        c, cOff + fullEnd, ldc, accumulate);
            }
        }
    }

    /**
     * The last, partial tile of {@code w < NR} columns: its B strip copied (widened) into a zero-padded
     * buffer, C staged through a tile buffer, so the kernel never reads or writes past column n.
     */
    private static void edgeTile(int m, int kb, int w, float[] a, int a0, int lda, int kind, MemorySegment b, long b0,
                                 long ldb, float[] c, int c0, int ldc, boolean accumulate) {
        MemorySegment strip = EDGE_STRIP.get();
        float[] tile = EDGE_TILE.get();
        for (int p = 0; p < kb; p++) {
            long dst = (long) p * NR;
            for (int j = 0; j < NR; j++) {
                strip.setAtIndex(LE_FLOAT, dst + j, j < w ? scalar(kind, b, b0 + p * ldb + j) : 0f);
            }
        }
        for (int i = 0; i < m; i += MR) {
            int rows = Math.min(MR, m - i);
            for (int r = 0; r < rows; r++) {
                int row = c0 + (i + r) * ldc;
                for (int j = 0; j < w; j++) {
                    tile[r * NR + j] = accumulate ? c[row + j] : 0f;
                }
            }
            micro(kb, rows, a, a0 + i * lda, lda, KIND_F32, strip, 0, NR, tile, 0, NR, true);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(tile, r * NR, c, c0 + (i + r) * ldc, w);
            }
        }
    }
}
