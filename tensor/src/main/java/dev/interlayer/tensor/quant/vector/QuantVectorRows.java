package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.ThreadSlot;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.QuantRows;
import java.lang.foreign.Arena;
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
    public void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
        DType t = f.dtype();
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
        if (m == 1 && kind >= 0) {
            float[] s = SCRATCH.lease();
            if (s == null || s.length < TileDriver.scratch(k)) {
                s = new float[TileDriver.scratch(k)];
            }
            try {
                TileDriver.decode(kind, k, a, aOff, w, wOff, rowBytes, s, c, cOff, j0, j1);
            } finally {
                SCRATCH.release(s);
            }
            return;
        }
        decodedRows(f, m, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, j0, j1);
    }

    /** The other formats (and Q4_K/Q6_K prefill): four rows decoded into a per-thread buffer, then dotted. */
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
