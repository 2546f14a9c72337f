package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.ThreadSlot;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.QuantRows;
import dev.interlayer.tensor.simd.GemmKernel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector API kernels for quantized weights (loaded reflectively by {@code QuantMatMul}).
 *
 * <p>Four paths, split by m and format:
 * <ul>
 * <li>m = 1 (decode) on Q8_0, Q4_0, Q4_K and Q6_K: {@link TileDriver}, the weight rows read in place, four
 * rows a quarter-range apart per tile (Q6_K two, see there), dequantized in registers.
 * <li>1 &lt; m ≤ {@link GemmKernel#ROW_EXACT_MAX} (batched decode) on the same four formats:
 * {@link BatchDriver}, register tiles of two weight rows × four activation rows (four × two for the last
 * rows), each weight vector decoded in registers once and used by eight FMA chains.
 * <li>m ≤ {@link GemmKernel#ROW_EXACT_MAX} on the other formats: four weight rows dequantized into a
 * per-thread buffer ({@link QuantDecode}; each weight block read and decoded once for all m activation rows)
 * and dotted with every activation row.
 * <li>m &gt; {@link GemmKernel#ROW_EXACT_MAX} (prefill chunks): {@link QuantPrefill}, the whole product at once
 * ({@link #product}): activations packed once as token panels, groups of 12 weight rows dequantized once per
 * step of k, a 12 × 32 register tile with the weights broadcast; not row-exact (another summation order).
 * </ul>
 * The first three compute each output by the same sequence (the dequantized row, one FMA chain,
 * {@link QSpecies#hsum}), so row i of an m-row product is bit for bit the decode of row i
 * ({@code QuantRowsIdentityTest}): batched decode gives each sequence what decoding it alone gives.
 *
 * <p>Computing style (issue 12: try both, keep the faster). (a) llama.cpp's: activations quantized per
 * block to int8, integer dot products. The Vector API has no byte or short dot-product operation, so
 * nothing reaches {@code vpdpbusd}/{@code vpmaddwd} even on this AVX-512 VNNI machine: an int8 block
 * costs byte-to-short widening, a short multiply and short-to-int widening adds. (b) F32 activations, the
 * block scale applied once per block ({@code acc = fma(Σ q·x, d, acc)}). (c) F32 activations, the weights
 * dequantized in registers ({@code d·q}) and a plain FMA dot. Measured in one run
 * ({@code QuantKernelProbe}, one thread, thread CPU time, weights in L3, GB/s of weights, 2048×8192 /
 * 8192×2048), (b) against (c): Q8_0 33.2/31.4 vs 31.7/30.4, Q4_0 20.2/17.1 vs 17.6/15.1, Q4_K 9.7/8.0 vs
 * 10.8/9.3 (a per-row scale pass, a single loop over sub-blocks). We ship (c): as fast within 10-15% on
 * decode, and its per-output operations are those of the buffer kernel, which stays the fastest prefill:
 * (b)'s bit-identical m-row tiles (one weight row, four activation rows) ran 54-57 GFLOP/s on Q8_0 at
 * m = 16 against 67-117 for the buffer. (a) was measured only one row at a time
 * ({@code Int8StyleExperiment}, 4096², in L3): Q8_0 0.71 ms vs 1.05 ms for (c)'s one-row kernel, Q4_0 0.82
 * vs 1.00, activation quantization included; (c)'s one-row kernel is bound by its single FMA chain and
 * its four-row tile reads Q8_0 at about 30 GB/s against 25 for (a) one row at a time, so whether an int8
 * four-row tile would win is open (not written). It was not retried for Q4_0/Q4_K in the December round
 * (prefill split, K-quant scale decoding moved into the tiles): an int8 decode kernel must be matched by an
 * int8 path for 1 &lt; m ≤ 16 to keep batched decode row-exact, so it is a change of both paths together.
 * Ninth session (Intel Xeon with AVX-512 VBMI/VNNI/FP16; hot kernel, one thread, disassembled with
 * {@code -XX:CompileCommand=print}): a 16-entry table lookup for Q4_0 (the block's values {@code fma(q, d, −8d)} or
 * {@code (q − 8)·d} by one vector op, the codes mapped by {@code selectFrom}, which C2 compiles to {@code vpermd}
 * plus a {@code vpandd} for the index wrap) ran at the speed of (c), 13.0 against 13.1 G codes/s; so did scales
 * staged in scratch and broadcast from memory (12.0 against 13.1) and a high nibble without its mask. The loop
 * issues about 16 operations per 32 codes and row on the two ports that run 512-bit vector ops, a third of them
 * for the f16 scale (move to a vector register, {@code vcvtph2ps}, two broadcasts); none of these rewrites removes
 * enough. Q6_K gained 25% from fewer bit operations ({@link Q6KTiles}).
 */
public final class QuantVectorRows implements QuantRows {
    private static final ThreadSlot<float[]> ROWS = new ThreadSlot<>();
    private static final ThreadSlot<MemorySegment> HEAP_COPY = new ThreadSlot<>();
    /** Per-thread scratch of the tile kernels: lanes for {@link QSpecies#hsum}, then per-call activation terms. */
    private static final ThreadSlot<float[]> SCRATCH = new ThreadSlot<>();

    /** Used reflectively. */
    public QuantVectorRows() {
    }

    @Override
    public String name() {
        return "simd-" + F.vectorBitSize();
    }

    @Override
    public boolean product(BlockFormat f, int m, int n, int k, float[] a, int aOff, int lda, MemorySegment w,
                           long wOff, long rowBytes, float[] c, int cOff, int ldc, int threads) {
        if (m <= GemmKernel.ROW_EXACT_MAX) {
            return false;
        }
        QuantPrefill.product(f, m, n, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, threads);
        return true;
    }

    @Override
    public void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
        DType t = f.dtype();
        if (m > GemmKernel.ROW_EXACT_MAX) {            // reads heap weights too (scalar dequantization)
            QuantPrefill.rows(f, m, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, j0, j1);
            return;
        }
        if (!QSpecies.NATIVE.isInstance(w)) {
            // heap weights (tests, freshly quantized tensors): the kernels read only off-heap segments (see
            // QSpecies.NATIVE), so this thread's rows are copied to an off-heap buffer first
            long bytes = (j1 - j0) * rowBytes;
            MemorySegment copy = HEAP_COPY.lease();
            if (copy == null || copy.byteSize() < bytes) {
                copy = Arena.ofAuto().allocate(Math.max(bytes, 64), 64);
            }
            try {
                MemorySegment.copy(w, wOff + j0 * rowBytes, copy, 0, bytes);
                rows(f, m, k, a, aOff, lda, copy, -j0 * rowBytes, rowBytes, c, cOff, ldc, j0, j1);
            } finally {
                HEAP_COPY.release(copy);
            }
            return;
        }
        int kind = TileDriver.kind(t);
        if (kind >= 0) {
            int need = m == 1 ? TileDriver.scratch(k) : BatchDriver.scratch(kind, m, k);
            float[] s = SCRATCH.lease();
            if (s == null || s.length < need) {
                s = new float[need];
            }
            try {
                if (m == 1) {
                    TileDriver.decode(kind, k, a, aOff, w, wOff, rowBytes, s, c, cOff, j0, j1);
                } else {
                    BatchDriver.rows(kind, m, k, a, aOff, lda, w, wOff, rowBytes, s, c, cOff, ldc, j0, j1);
                }
            } finally {
                SCRATCH.release(s);
            }
            return;
        }
        decodedRows(f, m, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, j0, j1);
    }

    /** The formats without tiles: four rows decoded into a per-thread buffer, then dotted with each activation row. */
    private static void decodedRows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w,
                                    long wOff, long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
        float[] buf = ROWS.lease(), red = SCRATCH.lease();
        if (buf == null || buf.length < 4 * k) {
            buf = new float[4 * k];
        }
        if (red == null) {
            red = new float[4 * VL];
        }
        try {
            for (int j = j0; j < j1; j += 4) {
                int r = Math.min(4, j1 - j);
                for (int t2 = 0; t2 < r; t2++) {
                    QuantDecode.row(f, w, wOff + (j + t2) * rowBytes, k, buf, t2 * k);
                }
                for (int i = 0; i < m; i++) {
                    int ai = aOff + i * lda, ci = cOff + i * ldc + j;
                    if (r == 4) {
                        dot4(k, buf, a, ai, red, c, ci);
                    } else {
                        for (int t2 = 0; t2 < r; t2++) {
                            c[ci + t2] = dot1(k, buf, t2 * k, a, ai, red);
                        }
                    }
                }
            }
        } finally {
            ROWS.release(buf);
            SCRATCH.release(red);
        }
    }

    /**
     * c[ci + r] = Σ_p w[r·k + p]·x[xi + p] for r &lt; 4, k a multiple of 16 (whole blocks): per output one
     * accumulator, {@code acc = fma(w, x, acc)} a vector at a time in element order, then
     * {@link QSpecies#hsum} — the sequence of the decode tiles ({@link TileDriver}), so a prefill row equals its
     * decode bit for bit. The four rows share each activation load and are four independent FMA chains.
     */
    private static void dot4(int k, float[] w, float[] x, int xi, float[] red, float[] c, int ci) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        for (int p = 0; p < k; p += VL) {
            FloatVector xv = FloatVector.fromArray(F, x, xi + p);
            s0 = FloatVector.fromArray(F, w, p).fma(xv, s0);
            s1 = FloatVector.fromArray(F, w, k + p).fma(xv, s1);
            s2 = FloatVector.fromArray(F, w, 2 * k + p).fma(xv, s2);
            s3 = FloatVector.fromArray(F, w, 3 * k + p).fma(xv, s3);
        }
        s0.intoArray(red, 0);
        s1.intoArray(red, VL);
        s2.intoArray(red, 2 * VL);
        s3.intoArray(red, 3 * VL);
        for (int r = 0; r < 4; r++) {
            c[ci + r] = QSpecies.hsum(red, r * VL);
        }
    }

    /** As {@link #dot4} for one row. */
    private static float dot1(int k, float[] w, int wo, float[] x, int xi, float[] red) {
        FloatVector s0 = FloatVector.zero(F);
        for (int p = 0; p < k; p += VL) {
            s0 = FloatVector.fromArray(F, w, wo + p).fma(FloatVector.fromArray(F, x, xi + p), s0);
        }
        s0.intoArray(red, 0);
        return QSpecies.hsum(red, 0);
    }
}
