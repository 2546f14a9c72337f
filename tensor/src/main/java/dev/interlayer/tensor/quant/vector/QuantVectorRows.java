package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.ThreadSlot;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.QuantRows;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector API kernels for quantized weights (loaded reflectively by {@code QuantMatMul}).
 *
 * <p>Decode (m = 1) on Q8_0, Q4_0, Q4_K and Q6_K: {@link QuantDots}, one pass over each weight row in
 * place, F32 activations with the block scale applied once per block. We keep the F32 style rather
 * than llama.cpp's (activations quantized to Q8_0/Q8_K, int8×int8 products summed in int32): the
 * Vector API has no byte dot-product instruction (no {@code vpdpbusd}/{@code pmaddubsw} lowering), so an
 * int8 product needs byte→short widening, a short multiply and a short→int widening add, three
 * conversions where the F32 style needs one byte→float conversion and one FMA per 16-lane group.
 * Measured (4096×4096, one thread, AVX-512, best of 30 on a busy shared machine, so noisy; the test
 * class {@code Int8StyleExperiment} reruns it), activation quantization included: Q8_0 F32 style
 * 1.70–2.26 ms vs int8 style 1.99–3.12 ms; Q4_0 2.12–2.34 ms vs 2.15–2.60 ms. Both read the same
 * weight bytes, so the cheaper inner loop wins (or ties); the int8 style would also add the
 * activation-quantization error. Q4_K and Q6_K use the F32 style by the same argument, not measured
 * in the int8 style.
 *
 * <p>Prefill (m &gt; 1) and the other formats: four weight rows at a time are dequantized into a
 * per-thread buffer [4, k] ({@link QuantDecode}, vectorized for the four main formats) and each is
 * dotted with every activation row, four independent accumulators sharing each activation load; the
 * decoding cost is spread over the m activation rows.
 */
public final class QuantVectorRows implements QuantRows {
    private static final ThreadSlot<float[]> ROWS = new ThreadSlot<>();
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
    public void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
        DType t = f.dtype();
        if (t == DType.Q8_0 || t == DType.Q4_0) {
            // scratch: [0, 4·VL) the tiles' reduction lanes, then Q4_0's offset vectors, k/32·VL per activation row
            int per = k / 32 * VL, need = 4 * VL + (t == DType.Q4_0 ? m * per : 0);
            float[] s = SCRATCH.lease();
            if (s == null || s.length < need) {
                s = new float[need];
            }
            try {
                if (t == DType.Q4_0) {
                    for (int i = 0; i < m; i++) {
                        Block32Tiles.offsets(a, aOff + i * lda, k, s, 4 * VL + i * per);
                    }
                }
                if (m == 1) {
                    decode32(t, k, a, aOff, w, wOff, rowBytes, s, c, cOff, j0, j1);
                } else {
                    for (int j = j0; j < j1; j++) {
                        acts32(t, m, k, a, aOff, lda, w, wOff + j * rowBytes, s, c, cOff + j, ldc);
                    }
                }
            } finally {
                SCRATCH.release(s);
            }
            return;
        }
        if (m == 1 && (t == DType.Q4_K || t == DType.Q6_K)) {
            for (int j = j0; j < j1; j++) {
                long off = wOff + j * rowBytes;
                c[cOff + j] = t == DType.Q4_K ? QuantDots.q4_K(w, off, k, a, aOff) : QuantDots.q6_K(w, off, k, a, aOff);
            }
            return;
        }
        decodedRows(f, m, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, j0, j1);
    }

    /**
     * m = 1, Q8_0/Q4_0: the range is cut into four quarters and each tile takes one row from each (four read
     * streams far apart, as {@code simd.MatVecVector.decodeRows} does for F32/BF16); the 0-3 rows left over
     * go one at a time. One loop per format, so each kernel's profile stays monomorphic.
     */
    private static void decode32(DType t, int k, float[] x, int xo, MemorySegment w, long wOff, long rowBytes,
                                 float[] red, float[] c, int cOff, int j0, int j1) {
        int q = (j1 - j0) / 4;
        long step = q * rowBytes;
        if (t == DType.Q8_0) {
            for (int j = j0; j < j0 + q; j++) {
                Block32Tiles.q8_0Far4(w, wOff + j * rowBytes, step, k, x, xo, red, c, cOff + j, q);
            }
            for (int j = j0 + 4 * q; j < j1; j++) {
                c[cOff + j] = Block32Tiles.q8_0One(w, wOff + j * rowBytes, k, x, xo, red);
            }
        } else {
            for (int j = j0; j < j0 + q; j++) {
                Block32Tiles.q4_0Far4(w, wOff + j * rowBytes, step, k, x, xo, red, 4 * VL, red, c, cOff + j, q);
            }
            for (int j = j0 + 4 * q; j < j1; j++) {
                c[cOff + j] = Block32Tiles.q4_0One(w, wOff + j * rowBytes, k, x, xo, red, 4 * VL, red);
            }
        }
    }

    /**
     * m &gt; 1, one weight row at byte {@code o} against every activation row, output column {@code ci}: four
     * activation rows per pass over the row, so each weight block is read and widened once per four rows; a
     * last group of two or three repeats its last row (its duplicate outputs are written twice, identically),
     * one left over runs alone. Each output is computed exactly as the m = 1 kernels compute it.
     */
    private static void acts32(DType t, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long o,
                               float[] red, float[] c, int ci, int ldc) {
        boolean q8 = t == DType.Q8_0;
        int i = 0;
        for (; i + 1 < m; i += 4) {
            int i1 = i + 1, i2 = Math.min(i + 2, m - 1), i3 = Math.min(i + 3, m - 1);
            int x0 = aOff + i * lda, x1 = aOff + i1 * lda, x2 = aOff + i2 * lda, x3 = aOff + i3 * lda;
            int c0 = ci + i * ldc, c1 = ci + i1 * ldc, c2 = ci + i2 * ldc, c3 = ci + i3 * ldc;
            if (q8) {
                Block32Tiles.q8_0Acts4(w, o, k, a, x0, x1, x2, x3, red, c, c0, c1, c2, c3);
            } else {
                int per = k / 32 * VL, n0 = 4 * VL;
                Block32Tiles.q4_0Acts4(w, o, k, a, x0, x1, x2, x3, red, n0 + i * per, n0 + i1 * per, n0 + i2 * per,
                        n0 + i3 * per, red, c, c0, c1, c2, c3);
            }
        }
        if (i < m) {
            c[ci + i * ldc] = q8 ? Block32Tiles.q8_0One(w, o, k, a, aOff + i * lda, red)
                    : Block32Tiles.q4_0One(w, o, k, a, aOff + i * lda, red, 4 * VL + i * (k / 32 * VL), red);
        }
    }

    /** The other formats (and Q4_K/Q6_K prefill): four rows decoded into a per-thread buffer, then dotted. */
    private static void decodedRows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w,
                                    long wOff, long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
        float[] buf = ROWS.lease();
        if (buf == null || buf.length < 4 * k) {
            buf = new float[4 * k];
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
                        dot4(k, buf, a, ai, c, ci);
                    } else {
                        for (int t2 = 0; t2 < r; t2++) {
                            c[ci + t2] = dot1(k, buf, t2 * k, a, ai);
                        }
                    }
                }
            }
        } finally {
            ROWS.release(buf);
        }
    }

    /** c[ci + r] = Σ_p w[r·k + p]·x[xi + p] for r &lt; 4; k is a multiple of 16 (whole blocks). */
    private static void dot4(int k, float[] w, float[] x, int xi, float[] c, int ci) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        for (int p = 0; p < k; p += VL) {
            FloatVector xv = FloatVector.fromArray(F, x, xi + p);
            s0 = FloatVector.fromArray(F, w, p).fma(xv, s0);
            s1 = FloatVector.fromArray(F, w, k + p).fma(xv, s1);
            s2 = FloatVector.fromArray(F, w, 2 * k + p).fma(xv, s2);
            s3 = FloatVector.fromArray(F, w, 3 * k + p).fma(xv, s3);
        }
        c[ci] = s0.reduceLanes(VectorOperators.ADD);
        c[ci + 1] = s1.reduceLanes(VectorOperators.ADD);
        c[ci + 2] = s2.reduceLanes(VectorOperators.ADD);
        c[ci + 3] = s3.reduceLanes(VectorOperators.ADD);
    }

    private static float dot1(int k, float[] w, int wo, float[] x, int xi) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        int p = 0;
        for (; p + 2 * VL <= k; p += 2 * VL) {
            s0 = FloatVector.fromArray(F, w, wo + p).fma(FloatVector.fromArray(F, x, xi + p), s0);
            s1 = FloatVector.fromArray(F, w, wo + p + VL).fma(FloatVector.fromArray(F, x, xi + p + VL), s1);
        }
        for (; p < k; p += VL) {
            s0 = FloatVector.fromArray(F, w, wo + p).fma(FloatVector.fromArray(F, x, xi + p), s0);
        }
        return s0.add(s1).reduceLanes(VectorOperators.ADD);
    }
}
