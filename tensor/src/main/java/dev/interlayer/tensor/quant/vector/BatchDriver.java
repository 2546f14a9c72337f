package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.hsum;

import java.lang.foreign.MemorySegment;

/**
 * The batched-decode path (1 &lt; m ≤ {@code GemmKernel.ROW_EXACT_MAX}) for Q8_0, Q4_0, Q4_K and Q6_K: one
 * thread's weight rows {@code [j0, j1)} two at a time, each pair against the activation rows four at a time
 * ({@link Block32BatchTiles}, {@link KQuantBatchTiles}). A weight block is decoded in registers once per four
 * activation rows (the pair's bytes stay in L1 between groups), where the dequantize-into-a-buffer path it
 * replaces wrote and re-read every value as a float, costing more than reading the blocks again.
 *
 * <p>Each output keeps its own accumulator, folded in the {@link TileDriver} sequence, so row i of an m-row
 * product is bit for bit its one-row (decode) result whatever m, the tile, or the position in the tile. A
 * missing row of a tile (an odd last weight row, fewer than four activation rows left) repeats the last real
 * one; its outputs are computed and dropped.
 *
 * <p>Scratch {@code s}: {@code [0, 8·VL)} accumulator lanes, then two rows' decoded K-quant scales of one
 * super-block ({@link #scratch}).
 */
final class BatchDriver {
    private BatchDriver() {
    }

    /** Floats of scratch the batch tiles need. */
    static int scratch() {
        return 8 * VL + 32;
    }

    static void rows(int kind, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] s, float[] c, int cOff, int ldc, int j0, int j1) {
        for (int j = j0; j < j1; j += 2) {
            int nr = Math.min(2, j1 - j);
            long o0 = wOff + j * rowBytes, o1 = nr == 2 ? o0 + rowBytes : o0;
            for (int i = 0; i < m; i += 4) {
                int mr = Math.min(4, m - i);
                int x0 = aOff + i * lda, x1 = mr > 1 ? x0 + lda : x0;
                int x2 = mr > 2 ? x1 + lda : x1, x3 = mr > 3 ? x2 + lda : x2, ci = cOff + i * ldc + j;
                switch (kind) {
                    case TileDriver.Q8_0 -> Block32BatchTiles.q8_0(w, o0, o1, k, a, x0, x1, x2, x3, s, c, ci, ldc, nr, mr);
                    case TileDriver.Q4_0 -> Block32BatchTiles.q4_0(w, o0, o1, k, a, x0, x1, x2, x3, s, c, ci, ldc, nr, mr);
                    case TileDriver.Q4_K -> KQuantBatchTiles.q4K(w, o0, o1, k, a, x0, x1, x2, x3, s, c, ci, ldc, nr, mr);
                    default -> KQuantBatchTiles.q6K(w, o0, o1, k, a, x0, x1, x2, x3, s, c, ci, ldc, nr, mr);
                }
            }
        }
    }

    /**
     * Outputs of a tile from its accumulators' lanes {@code s[(4r + i)·VL ..]} (weight row r, activation row i):
     * {@code c[ci + i·ldc + r] = hsum} for the nr × mr that exist.
     */
    static void store(float[] s, float[] c, int ci, int ldc, int nr, int mr) {
        for (int r = 0; r < nr; r++) {
            for (int i = 0; i < mr; i++) {
                c[ci + i * ldc + r] = hsum(s, (4 * r + i) * VL);
            }
        }
    }
}
