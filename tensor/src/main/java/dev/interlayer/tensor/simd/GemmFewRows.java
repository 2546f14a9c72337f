package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.KIND_BF16;
import static dev.interlayer.tensor.simd.GemmSpecies.KIND_F32;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmSpecies.loadBf16;
import static dev.interlayer.tensor.simd.GemmSpecies.loadF16;
import static dev.interlayer.tensor.simd.GemmSpecies.loadF32;
import static dev.interlayer.tensor.simd.GemmSpecies.scalar;

import dev.interlayer.tensor.ComputePool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;

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
 */
final class GemmFewRows {
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

    /**
     * C[r, 0..NR) (=, or += when accumulate) Σ_{p &lt; kb} A[r, p]·B[p, 0..NR) for r &lt; rows ≤ MR; A row r at
     * {@code a[a0 + r*lda]}, B row p at element {@code b0 + p*ldb}, C row r at {@code c[c0 + r*ldc]}.
     */
    private static void micro(int kb, int rows, float[] a, int a0, int lda, int kind, MemorySegment b, long b0,
                              long ldb, float[] c, int c0, int ldc, boolean accumulate) {
        // Rows past the valid ones repeat the last valid row (clamped) and are not stored.
        int last = rows - 1;
        int x0 = a0, x1 = a0 + Math.min(1, last) * lda, x2 = a0 + Math.min(2, last) * lda;
        int x3 = a0 + Math.min(3, last) * lda, x4 = a0 + Math.min(4, last) * lda, x5 = a0 + Math.min(5, last) * lda;
        int y0 = c0, y1 = c0 + ldc, y2 = c0 + 2 * ldc, y3 = c0 + 3 * ldc, y4 = c0 + 4 * ldc, y5 = c0 + 5 * ldc;
        int v1 = VL, v2 = 2 * VL, v3 = 3 * VL;
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        if (accumulate) {
            c00 = FloatVector.fromArray(F, c, y0);
            c01 = FloatVector.fromArray(F, c, y0 + v1);
            c02 = FloatVector.fromArray(F, c, y0 + v2);
            c03 = FloatVector.fromArray(F, c, y0 + v3);
            if (rows > 1) {
                c10 = FloatVector.fromArray(F, c, y1);
                c11 = FloatVector.fromArray(F, c, y1 + v1);
                c12 = FloatVector.fromArray(F, c, y1 + v2);
                c13 = FloatVector.fromArray(F, c, y1 + v3);
            }
            if (rows > 2) {
                c20 = FloatVector.fromArray(F, c, y2);
                c21 = FloatVector.fromArray(F, c, y2 + v1);
                c22 = FloatVector.fromArray(F, c, y2 + v2);
                c23 = FloatVector.fromArray(F, c, y2 + v3);
            }
            if (rows > 3) {
                c30 = FloatVector.fromArray(F, c, y3);
                c31 = FloatVector.fromArray(F, c, y3 + v1);
                c32 = FloatVector.fromArray(F, c, y3 + v2);
                c33 = FloatVector.fromArray(F, c, y3 + v3);
            }
            if (rows > 4) {
                c40 = FloatVector.fromArray(F, c, y4);
                c41 = FloatVector.fromArray(F, c, y4 + v1);
                c42 = FloatVector.fromArray(F, c, y4 + v2);
                c43 = FloatVector.fromArray(F, c, y4 + v3);
            }
            if (rows > 5) {
                c50 = FloatVector.fromArray(F, c, y5);
                c51 = FloatVector.fromArray(F, c, y5 + v1);
                c52 = FloatVector.fromArray(F, c, y5 + v2);
                c53 = FloatVector.fromArray(F, c, y5 + v3);
            }
        }
        long bp = b0;
        for (int p = 0; p < kb; p++, bp += ldb) {
            // Per-kind loaders written out, not load(kind, ...): that dispatcher is too big for C2 to inline once
            // compiled for several kinds or at a cold call site, and each vector it returns is then boxed.
            FloatVector b0v, b1v, b2v, b3v;
            if (kind == KIND_F32) {
                b0v = loadF32(b, bp);
                b1v = loadF32(b, bp + v1);
                b2v = loadF32(b, bp + v2);
                b3v = loadF32(b, bp + v3);
            } else if (kind == KIND_BF16) {
                b0v = loadBf16(b, bp);
                b1v = loadBf16(b, bp + v1);
                b2v = loadBf16(b, bp + v2);
                b3v = loadBf16(b, bp + v3);
            } else {
                b0v = loadF16(b, bp);
                b1v = loadF16(b, bp + v1);
                b2v = loadF16(b, bp + v2);
                b3v = loadF16(b, bp + v3);
            }
            FloatVector s = FloatVector.broadcast(F, a[x0 + p]);
            c00 = s.fma(b0v, c00);
            c01 = s.fma(b1v, c01);
            c02 = s.fma(b2v, c02);
            c03 = s.fma(b3v, c03);
            s = FloatVector.broadcast(F, a[x1 + p]);
            c10 = s.fma(b0v, c10);
            c11 = s.fma(b1v, c11);
            c12 = s.fma(b2v, c12);
            c13 = s.fma(b3v, c13);
            s = FloatVector.broadcast(F, a[x2 + p]);
            c20 = s.fma(b0v, c20);
            c21 = s.fma(b1v, c21);
            c22 = s.fma(b2v, c22);
            c23 = s.fma(b3v, c23);
            s = FloatVector.broadcast(F, a[x3 + p]);
            c30 = s.fma(b0v, c30);
            c31 = s.fma(b1v, c31);
            c32 = s.fma(b2v, c32);
            c33 = s.fma(b3v, c33);
            s = FloatVector.broadcast(F, a[x4 + p]);
            c40 = s.fma(b0v, c40);
            c41 = s.fma(b1v, c41);
            c42 = s.fma(b2v, c42);
            c43 = s.fma(b3v, c43);
            s = FloatVector.broadcast(F, a[x5 + p]);
            c50 = s.fma(b0v, c50);
            c51 = s.fma(b1v, c51);
            c52 = s.fma(b2v, c52);
            c53 = s.fma(b3v, c53);
        }
        // Written out, not through a helper taking vectors: a vector passed to a call C2 does not inline is boxed.
        c00.intoArray(c, y0);
        c01.intoArray(c, y0 + v1);
        c02.intoArray(c, y0 + v2);
        c03.intoArray(c, y0 + v3);
        if (rows > 1) {
            c10.intoArray(c, y1);
            c11.intoArray(c, y1 + v1);
            c12.intoArray(c, y1 + v2);
            c13.intoArray(c, y1 + v3);
        }
        if (rows > 2) {
            c20.intoArray(c, y2);
            c21.intoArray(c, y2 + v1);
            c22.intoArray(c, y2 + v2);
            c23.intoArray(c, y2 + v3);
        }
        if (rows > 3) {
            c30.intoArray(c, y3);
            c31.intoArray(c, y3 + v1);
            c32.intoArray(c, y3 + v2);
            c33.intoArray(c, y3 + v3);
        }
        if (rows > 4) {
            c40.intoArray(c, y4);
            c41.intoArray(c, y4 + v1);
            c42.intoArray(c, y4 + v2);
            c43.intoArray(c, y4 + v3);
        }
        if (rows > 5) {
            c50.intoArray(c, y5);
            c51.intoArray(c, y5 + v1);
            c52.intoArray(c, y5 + v2);
            c53.intoArray(c, y5 + v3);
        }
    }
}
