package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.hsum;

import java.lang.foreign.MemorySegment;

/**
 * The batched-decode path (1 &lt; m ≤ {@code GemmKernel.ROW_EXACT_MAX}) for Q8_0, Q4_0, Q4_K and Q6_K: one
 * thread's weight rows {@code [j0, j1)} four at a time; for each group of four, the activation rows four at a
 * time as two tiles of two weight rows × four activation rows while three or more are left, then one tile of
 * four weight rows × two activation rows for the last one or two (Q6_K: two × four with repeated rows;
 * {@link Block32BatchTiles}, {@link KQuantBatchTiles}). Each weight vector is decoded in registers once per tile and used by 8 FMAs (the
 * group's bytes stay in L1 between tiles), where the dequantize-into-a-buffer path this replaces wrote and
 * re-read every value as a float, costing more than reading the blocks again.
 *
 * <p>Each output keeps its own accumulator, folded in the {@link TileDriver} sequence, so row i of an m-row
 * product is bit for bit its one-row (decode) result whatever m, the tile, or the position in the tile. A
 * missing row of a tile (the last weight rows of an odd range, an odd activation row left) repeats the last real
 * one; its outputs are computed and dropped.
 *
 * <p>Scratch {@code s}: {@code [0, 8·VL)} accumulator lanes, then four rows' decoded K-quant scales of one
 * super-block ({@link #scratch}).
 */
final class BatchDriver {
    private BatchDriver() {
    }

    /** Floats of scratch the batch tiles need for m rows of k (block-scale Q4_0: the m rows' block sums too). */
    static int scratch(int kind, int m, int k) {
        return kind == TileDriver.Q4_0 && TileDriver.Q4_0_BLOCKSCALE ? Q40ScaleTiles.SUMS + m * (k / 32) : 8 * VL + 64;
    }

    /**
     * Block-scale Q4_0 ({@link TileDriver#Q4_0_BLOCKSCALE}): the block sums of every activation row once, then for
     * each pair of weight rows the activation rows four at a time ({@link Q40ScaleTiles#w2x4}; the pair's bytes stay
     * in L1 between tiles).
     */
    private static void q4_0Scaled(int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                                   long rowBytes, float[] s, float[] c, int cOff, int ldc, int j0, int j1) {
        int nb = k / 32, sums = Q40ScaleTiles.SUMS;
        for (int i = 0; i < m; i++) {
            Q40ScaleTiles.blockSums(k, a, aOff + i * lda, s, sums + i * nb);
        }
        for (int j = j0; j < j1; j += 2) {
            int nr = Math.min(2, j1 - j);
            long o0 = wOff + j * rowBytes, o1 = nr > 1 ? o0 + rowBytes : o0;
            for (int i = 0; i < m; i += 4) {
                int mr = Math.min(4, m - i);
                int x0 = aOff + i * lda, x1 = mr > 1 ? x0 + lda : x0, x2 = mr > 2 ? x1 + lda : x1;
                int x3 = mr > 3 ? x2 + lda : x2;
                int s0 = sums + i * nb, s1 = mr > 1 ? s0 + nb : s0, s2 = mr > 2 ? s1 + nb : s1;
                int s3 = mr > 3 ? s2 + nb : s2;
                Q40ScaleTiles.w2x4(w, o0, o1, k, a, x0, x1, x2, x3, s, s0, s1, s2, s3, c, cOff + i * ldc + j, ldc,
                        nr, mr);
            }
        }
    }

    static void rows(int kind, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] s, float[] c, int cOff, int ldc, int j0, int j1) {
        if (kind == TileDriver.Q4_0 && TileDriver.Q4_0_BLOCKSCALE) {
            q4_0Scaled(m, k, a, aOff, lda, w, wOff, rowBytes, s, c, cOff, ldc, j0, j1);
            return;
        }
        if (kind == TileDriver.Q8_0 && TileDriver.Q8_0_SCALE) {        // decode's arithmetic (Q80Tiles)
            for (int j = j0; j < j1; j += 2) {
                long o0 = wOff + j * rowBytes, o1 = j + 1 < j1 ? o0 + rowBytes : o0;
                for (int i = 0; i < m; i += 4) {
                    int mr = Math.min(4, m - i), x0 = aOff + i * lda, x1 = mr > 1 ? x0 + lda : x0;
                    int x2 = mr > 2 ? x1 + lda : x1, x3 = mr > 3 ? x2 + lda : x2;
                    Q80Tiles.scaleW2x4(w, o0, o1, k, a, x0, x1, x2, x3, s);
                    store(s, c, cOff + i * ldc + j, ldc, Math.min(2, j1 - j), mr, 4);
                }
            }
            return;
        }
        for (int j = j0; j < j1; j += 4) {
            int nr = Math.min(4, j1 - j);
            long o0 = wOff + j * rowBytes, o1 = nr > 1 ? o0 + rowBytes : o0;
            long o2 = nr > 2 ? o1 + rowBytes : o1, o3 = nr > 3 ? o2 + rowBytes : o2;
            int i = 0;
            for (; m - i >= 3; i += 4) {
                int mr = Math.min(4, m - i);
                int x0 = aOff + i * lda, x1 = x0 + lda, x2 = x1 + lda, x3 = mr > 3 ? x2 + lda : x2;
                int ci = cOff + i * ldc + j;
                w2x4(kind, w, o0, o1, k, a, x0, x1, x2, x3, s, c, ci, ldc, Math.min(2, nr), mr);
                if (nr > 2) {
                    w2x4(kind, w, o2, o3, k, a, x0, x1, x2, x3, s, c, ci + 2, ldc, nr - 2, mr);
                }
            }
            if (i < m && kind == TileDriver.Q6_K) {              // no four-row Q6_K tile (KQuantBatchTiles)
                int x0 = aOff + i * lda, x1 = m - i > 1 ? x0 + lda : x0, ci = cOff + i * ldc + j;
                w2x4(kind, w, o0, o1, k, a, x0, x1, x1, x1, s, c, ci, ldc, Math.min(2, nr), m - i);
                if (nr > 2) {
                    w2x4(kind, w, o2, o3, k, a, x0, x1, x1, x1, s, c, ci + 2, ldc, nr - 2, m - i);
                }
            } else if (i < m) {
                int mr = m - i, x0 = aOff + i * lda, x1 = mr > 1 ? x0 + lda : x0, ci = cOff + i * ldc + j;
                switch (kind) {
                    case TileDriver.Q8_0 -> Block32BatchTiles.q8_0W4X2(w, o0, o1, o2, o3, k, a, x0, x1, s, c, ci, ldc, nr, mr);
                    case TileDriver.Q4_0 -> Block32BatchTiles.q4_0W4X2(w, o0, o1, o2, o3, k, a, x0, x1, s, c, ci, ldc, nr, mr);
                    default -> KQuantBatchTiles.q4KW4X2(w, o0, o1, o2, o3, k, a, x0, x1, s, c, ci, ldc, nr, mr);
                }
            }
        }
    }

    private static void w2x4(int kind, MemorySegment w, long o0, long o1, int k, float[] a, int x0, int x1, int x2,
                             int x3, float[] s, float[] c, int ci, int ldc, int nr, int mr) {
        switch (kind) {
            case TileDriver.Q8_0 -> Block32BatchTiles.q8_0W2X4(w, o0, o1, k, a, x0, x1, x2, x3, s, c, ci, ldc, nr, mr);
            case TileDriver.Q4_0 -> Block32BatchTiles.q4_0W2X4(w, o0, o1, k, a, x0, x1, x2, x3, s, c, ci, ldc, nr, mr);
            case TileDriver.Q4_K -> KQuantBatchTiles.q4KW2X4(w, o0, o1, k, a, x0, x1, x2, x3, s, c, ci, ldc, nr, mr);
            default -> KQuantBatchTiles.q6KW2X4(w, o0, o1, k, a, x0, x1, x2, x3, s, c, ci, ldc, nr, mr);
        }
    }

    /**
     * Outputs of a tile from its accumulators' lanes {@code s[(xs·r + i)·VL ..]} (weight row r, activation row i,
     * xs activation rows per tile): {@code c[ci + i·ldc + r] = hsum} for the nr × mr that exist.
     */
    static void store(float[] s, float[] c, int ci, int ldc, int nr, int mr, int xs) {
        for (int r = 0; r < nr; r++) {
            for (int i = 0; i < mr; i++) {
                c[ci + i * ldc + r] = hsum(s, (xs * r + i) * VL);
            }
        }
    }
}
