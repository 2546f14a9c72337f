package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import dev.interlayer.tensor.DType;
import java.lang.foreign.MemorySegment;

/**
 * Runs the tile kernels ({@link Block32Tiles}, {@link Q4KTiles}, {@link Q6KTiles}) over one thread's weight rows
 * {@code [j0, j1)}. Every output is computed by the same per-output sequence of operations whichever
 * tile computes it, so row i of an m-row product is bit for bit the m = 1 result for that row.
 *
 * <ul>
 *   <li>m = 1 (decode): the range is cut into four quarters and each tile takes one row from each: four
 *       read streams far apart in memory that share each activation load (as {@code simd.MatVecVector}
 *       does for F32/BF16); the 0-3 rows left over run one at a time.</li>
 *   <li>m &gt; 1 (prefill chunks, batched decode): one weight row against four activation rows per pass, so
 *       each weight block is read from memory and widened to floats once per four rows (the row, a few KB,
 *       stays in L1/L2 for the next four); a last group of two or three repeats its last activation row
 *       (its outputs are written twice, identically), a single row left over runs alone.</li>
 * </ul>
 *
 * Scratch {@code s}: {@code [0, 4·VL)} reduction lanes, {@code [4·VL, base(k))} decoded scales of four rows, then
 * {@link #perRow} floats of per-call activation terms for each activation row (Q4_0's offset vectors,
 * Q4_K's sub-block sums).
 */
final class TileDriver {
    static final int Q8_0 = 0, Q4_0 = 1, Q4_K = 2, Q6_K = 3;

    private TileDriver() {
    }

    /** Start of the per-activation-row terms in the scratch: after the lanes and four rows' K-quant scales. */
    static int base(int k) {
        return 4 * VL + k / 4;
    }

    /** The tile kind of t, or −1 when t has no tile kernels. */
    static int kind(DType t) {
        return switch (t) {
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            case Q4_K -> Q4_K;
            case Q6_K -> Q6_K;
            default -> -1;
        };
    }

    /** Floats of per-call activation terms per activation row. */
    static int perRow(int kind, int k) {
        return switch (kind) {
            case Q4_0 -> k / 32 * VL;
            case Q4_K -> k / 32;
            default -> 0;
        };
    }

    static void rows(int kind, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] s, float[] c, int cOff, int ldc, int j0, int j1) {
        int per = perRow(kind, k);
        for (int i = 0; i < m; i++) {
            if (kind == Q4_0) {
                Block32Tiles.offsets(a, aOff + i * lda, k, s, base(k) + i * per);
            } else if (kind == Q4_K) {
                Q4KTiles.sums(a, aOff + i * lda, k, s, base(k) + i * per);
            }
        }
        if (m == 1) {
            decode(kind, k, a, aOff, w, wOff, rowBytes, s, c, cOff, j0, j1);
        } else {
            for (int j = j0; j < j1; j++) {
                acts(kind, m, k, a, aOff, lda, w, wOff + j * rowBytes, s, c, cOff + j, ldc);
            }
        }
    }

    private static void decode(int kind, int k, float[] x, int xo, MemorySegment w, long wOff, long rowBytes,
                               float[] s, float[] c, int cOff, int j0, int j1) {
        int q = (j1 - j0) / 4;
        long step = q * rowBytes;
        for (int j = j0; j < j0 + q; j++) {
            long o = wOff + j * rowBytes;
            switch (kind) {
                case Q8_0 -> Block32Tiles.q8_0Far4(w, o, step, k, x, xo, s, c, cOff + j, q);
                case Q4_0 -> Block32Tiles.q4_0Far4(w, o, step, k, x, xo, s, base(k), s, c, cOff + j, q);
                case Q6_K -> {
                    for (int r = 0; r < 4; r++) {
                        Q6KTiles.scales(w, o + r * step, k, s, 4 * VL + r * (k / 16));
                    }
                    Q6KTiles.far4(w, o, step, k, x, xo, s, c, cOff + j, q);
                }
                default -> {
                    int nj = k / 32, sc = 4 * VL, xs = base(k);
                    for (int r = 0; r < 4; r++) {
                        Q4KTiles.scales(w, o + r * step, k, s, sc + r * nj);
                    }
                    Q4KTiles.far4(w, o, step, k, x, xo, s, Q4KTiles.mins(w, o, k, s, xs),
                            Q4KTiles.mins(w, o + step, k, s, xs), Q4KTiles.mins(w, o + 2 * step, k, s, xs),
                            Q4KTiles.mins(w, o + 3 * step, k, s, xs), c, cOff + j, q);
                }
            }
        }
        for (int j = j0 + 4 * q; j < j1; j++) {
            c[cOff + j] = one(kind, k, x, xo, base(k), w, wOff + j * rowBytes, s);
        }
    }

    private static float one(int kind, int k, float[] x, int xo, int terms, MemorySegment w, long o, float[] s) {
        return switch (kind) {
            case Q8_0 -> Block32Tiles.q8_0One(w, o, k, x, xo, s);
            case Q4_0 -> Block32Tiles.q4_0One(w, o, k, x, xo, s, terms, s);
            case Q6_K -> {
                Q6KTiles.scales(w, o, k, s, 4 * VL);
                yield Q6KTiles.one(w, o, k, x, xo, s);
            }
            default -> {
                Q4KTiles.scales(w, o, k, s, 4 * VL);
                yield Q4KTiles.one(w, o, k, x, xo, s, Q4KTiles.mins(w, o, k, s, terms));
            }
        };
    }

    private static void acts(int kind, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long o,
                             float[] s, float[] c, int ci, int ldc) {
        int per = perRow(kind, k);
        int i = 0;
        for (; i + 1 < m; i += 4) {
            int i1 = i + 1, i2 = Math.min(i + 2, m - 1), i3 = Math.min(i + 3, m - 1);
            int x0 = aOff + i * lda, x1 = aOff + i1 * lda, x2 = aOff + i2 * lda, x3 = aOff + i3 * lda;
            int t0 = base(k) + i * per, t1 = base(k) + i1 * per, t2 = base(k) + i2 * per, t3 = base(k) + i3 * per;
            int c0 = ci + i * ldc, c1 = ci + i1 * ldc, c2 = ci + i2 * ldc, c3 = ci + i3 * ldc;
            switch (kind) {
                case Q8_0 -> Block32Tiles.q8_0Acts4(w, o, k, a, x0, x1, x2, x3, s, c, c0, c1, c2, c3);
                case Q4_0 -> Block32Tiles.q4_0Acts4(w, o, k, a, x0, x1, x2, x3, s, t0, t1, t2, t3, s, c, c0, c1, c2,
                        c3);
                case Q6_K -> {
                    Q6KTiles.scales(w, o, k, s, 4 * VL);
                    Q6KTiles.acts4(w, o, k, a, x0, x1, x2, x3, s, c, c0, c1, c2, c3);
                }
                default -> {
                    Q4KTiles.scales(w, o, k, s, 4 * VL);
                    Q4KTiles.acts4(w, o, k, a, x0, x1, x2, x3, s, Q4KTiles.mins(w, o, k, s, t0),
                            Q4KTiles.mins(w, o, k, s, t1), Q4KTiles.mins(w, o, k, s, t2), Q4KTiles.mins(w, o, k, s, t3),
                            c, c0, c1, c2, c3);
                }
            }
        }
        if (i < m) {
            c[ci + i * ldc] = one(kind, k, a, aOff + i * lda, base(k) + i * per, w, o, s);
        }
    }
}
