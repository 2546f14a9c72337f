package dev.interlayer.nn;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.FloatFormats;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.BlockFormats;
import dev.interlayer.tensor.quant.QuantMatMul;
import dev.interlayer.tensor.quant.Quantizer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The keys (or the values) of one cache layer, [rows, kvDim] row-major, stored in one {@link KvType}: rows are
 * written from F32 and read back by the two products of attention, scores s_j = scale·(q·K_j) and the weighted
 * sum o += Σ_j p_j·V_j over a run of consecutive rows, restricted to one head's columns [col, col + dh).
 *
 * <p>F32 calls {@code Ops.dotRows}/{@code Ops.addWeightedRows} on the array itself (what attention always did).
 * F16 and Q8_0 widen the run, {@link #TILE} rows at a time, into a caller-owned F32 tile (a few KB, stays in L1)
 * and run the same kernels on it; Q8_0 scores go straight to the quantized matrix-vector kernel of
 * {@code tensor.quant} (dequantized in registers). Conversions are tensor's ({@link FloatFormats},
 * {@link Quantizer}, {@link BlockFormat}). Nothing is allocated per call. Written by the session's thread; read
 * concurrently by the attention tasks of one call (which write only their own tiles).
 */
abstract sealed class KvRows permits KvRows.F32Rows, KvRows.F16Rows, KvRows.Q8Rows {
    /** Rows widened per step of a non-F32 read; the tile a caller passes holds TILE·dh floats. */
    static final int TILE = 32;

    final int rows, kvDim;

    KvRows(int rows, int kvDim) {
        this.rows = rows;
        this.kvDim = kvDim;
    }

    /** Storage of {@code rows} zeroed rows of {@code kvDim} values in {@code type}. */
    static KvRows of(KvType type, int rows, int kvDim) {
        return switch (type) {
            case F32 -> new F32Rows(rows, kvDim);
            case F16 -> new F16Rows(rows, kvDim);
            case Q8_0 -> new Q8Rows(rows, kvDim);
        };
    }

    /** Writes rows [row, row + n) from src[srcOff ..] (n·kvDim floats, row-major); no wrap. */
    abstract void write(float[] src, int srcOff, int row, int n);

    /** out[oOff + j] = scale·Σ_i q[qOff + i]·K[row0 + j, col + i] for j &lt; n, i &lt; dh. */
    abstract void dot(float[] q, int qOff, int row0, int n, int col, int dh, float scale, float[] out, int oOff,
                      float[] tile);

    /** out[oOff + i] += Σ_j p[pOff + j]·V[row0 + j, col + i] for i &lt; dh, j &lt; n in order. */
    abstract void addWeighted(float[] p, int pOff, int row0, int n, int col, int dh, float[] out, int oOff,
                              float[] tile);

    /** Row {@code row} widened to F32 into out[off .. off + kvDim). */
    abstract void read(int row, float[] out, int off);

    /** Bytes this storage holds. */
    abstract long bytes();

    /** Exact F32 rows: the kernels read the array in place. */
    static final class F32Rows extends KvRows {
        final float[] data; // [rows·kvDim]

        F32Rows(int rows, int kvDim) {
            super(rows, kvDim);
            this.data = new float[rows * kvDim];
        }

        @Override
        void write(float[] src, int srcOff, int row, int n) {
            System.arraycopy(src, srcOff, data, row * kvDim, n * kvDim);
        }

        @Override
        void dot(float[] q, int qOff, int row0, int n, int col, int dh, float scale, float[] out, int oOff,
                 float[] tile) {
            Ops.dotRows(q, qOff, data, row0 * kvDim + col, kvDim, n, dh, scale, out, oOff);
        }

        @Override
        void addWeighted(float[] p, int pOff, int row0, int n, int col, int dh, float[] out, int oOff, float[] tile) {
            Ops.addWeightedRows(p, pOff, data, row0 * kvDim + col, kvDim, n, dh, out, oOff);
        }

        @Override
        void read(int row, float[] out, int off) {
            System.arraycopy(data, row * kvDim, out, off, kvDim);
        }

        @Override
        long bytes() {
            return 4L * data.length;
        }
    }

    /** IEEE binary16 rows in a short[]: widened a tile at a time (a loop the JIT can vectorize). */
    static final class F16Rows extends KvRows {
        private final short[] data; // [rows·kvDim] binary16 bits

        F16Rows(int rows, int kvDim) {
            super(rows, kvDim);
            this.data = new short[rows * kvDim];
        }

        @Override
        void write(float[] src, int srcOff, int row, int n) {
            int base = row * kvDim;
            for (int i = 0, len = n * kvDim; i < len; i++) {
                data[base + i] = FloatFormats.f32ToF16(src[srcOff + i]);
            }
        }

        // tile[r·dh + i] = K[row0 + r, col + i] for r < n (n ≤ TILE)
        private void widen(int row0, int n, int col, int dh, float[] tile) {
            for (int r = 0; r < n; r++) {
                int s = (row0 + r) * kvDim + col, t = r * dh;
                for (int i = 0; i < dh; i++) {
                    tile[t + i] = FloatFormats.f16ToF32(data[s + i]);
                }
            }
        }

        @Override
        void dot(float[] q, int qOff, int row0, int n, int col, int dh, float scale, float[] out, int oOff,
                 float[] tile) {
            for (int j = 0; j < n; j += TILE) {
                int m = Math.min(TILE, n - j);
                widen(row0 + j, m, col, dh, tile);
                Ops.dotRows(q, qOff, tile, 0, dh, m, dh, scale, out, oOff + j);
            }
        }

        @Override
        void addWeighted(float[] p, int pOff, int row0, int n, int col, int dh, float[] out, int oOff, float[] tile) {
            for (int j = 0; j < n; j += TILE) {
                int m = Math.min(TILE, n - j);
                widen(row0 + j, m, col, dh, tile);
                Ops.addWeightedRows(p, pOff + j, tile, 0, dh, m, dh, out, oOff);
            }
        }

        @Override
        void read(int row, float[] out, int off) {
            int s = row * kvDim;
            for (int i = 0; i < kvDim; i++) {
                out[off + i] = FloatFormats.f16ToF32(data[s + i]);
            }
        }

        @Override
        long bytes() {
            return 2L * data.length;
        }
    }

    /**
     * Q8_0 rows in an off-heap segment (row r at byte r·rowBytes; head h's blocks at h·dh/32·34 within it): the
     * quantized kernels read native segments in place (a heap one would be copied per call).
     */
    static final class Q8Rows extends KvRows {
        private static final BlockFormat Q8 = BlockFormats.of(DType.Q8_0);
        private final MemorySegment data; // [rows, kvDim/32] blocks of 34 bytes
        private final long rowBytes;

        Q8Rows(int rows, int kvDim) {
            super(rows, kvDim);
            this.rowBytes = KvType.Q8_0.rowBytes(kvDim);
            // Arena.ofAuto: freed when the cache is unreachable, readable from the compute pool's threads
            this.data = Arena.ofAuto().allocate(Math.max(1, rows * rowBytes), 64);
        }

        private long at(int row, int col) {
            return row * rowBytes + (long) col / KvType.Q8_BLOCK * DType.Q8_0.blockBytes();
        }

        @Override
        void write(float[] src, int srcOff, int row, int n) {
            for (int r = 0; r < n; r++) {
                Quantizer.quantizeRow(DType.Q8_0, src, srcOff + r * kvDim, kvDim, data, (row + r) * rowBytes);
            }
        }

        @Override
        void dot(float[] q, int qOff, int row0, int n, int col, int dh, float scale, float[] out, int oOff,
                 float[] tile) {
            // one activation row against rows [row0, row0 + n) of head col/dh; single-threaded here (the caller is
            // already one task of attention's parallel loop). Output j lands at out[oOff − row0 + j].
            QuantMatMul.ACTIVE.rows(Q8, 1, dh, q, qOff, dh, data, at(0, col), rowBytes, out, oOff - row0, n,
                    row0, row0 + n);
            for (int j = oOff; j < oOff + n; j++) {
                out[j] *= scale;
            }
        }

        @Override
        void addWeighted(float[] p, int pOff, int row0, int n, int col, int dh, float[] out, int oOff, float[] tile) {
            for (int j = 0; j < n; j += TILE) {
                int m = Math.min(TILE, n - j);
                for (int r = 0; r < m; r++) {
                    Q8.dequantizeRow(data, at(row0 + j + r, col), dh, tile, r * dh);
                }
                Ops.addWeightedRows(p, pOff + j, tile, 0, dh, m, dh, out, oOff);
            }
        }

        @Override
        void read(int row, float[] out, int off) {
            Q8.dequantizeRow(data, at(row, 0), kvDim, out, off);
        }

        @Override
        long bytes() {
            return rows * rowBytes;
        }
    }
}
