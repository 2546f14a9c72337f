package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.KIND_BF16;
import static dev.interlayer.tensor.simd.GemmSpecies.KIND_F32;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmSpecies.loadBf16;
import static dev.interlayer.tensor.simd.GemmSpecies.loadF16;
import static dev.interlayer.tensor.simd.GemmSpecies.loadF32;
import static dev.interlayer.tensor.simd.GemmSpecies.scalar;
import static dev.interlayer.tensor.simd.GemmSpecies.fold;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The several-activation-row tiles of {@link MatVecVector#rows} (batched decode): four weight rows
 * w0 + t·step (t &lt; 4) against 4 or 2 activation rows, 16 or 8 vector accumulators. Each weight vector
 * is loaded (and widened from F16/BF16) once and multiplied into every activation row, so a batch of m
 * sequences reads the weights once. Every output follows the order {@link MatVecVector} states: one
 * accumulator, FMA per VL-wide k step, {@link GemmSpecies#fold}, then the scalar {@link #tail}.
 *
 * <p>Outputs: activation row r, weight row t at {@code c[c0 + r*ldc + t*cs]}.
 */
final class MatVecTiles {
    private MatVecTiles() {
    }

    /**
     * r + Σ_{p ∈ [kv, k)} W[p]·A[p], added in order of p (the k tail below a whole vector), W row at wj, A row
     * at ai. Floats cross this call, never vectors (a vector argument to a call C2 does not inline is boxed).
     */
    static float tail(int k, int kv, float[] a, int ai, int kind, MemorySegment w, long wj, float r) {
        for (int p = kv; p < k; p++) {
            r += scalar(kind, w, wj + p) * a[ai + p];
        }
        return r;
    }

    // One weight vector widened from its kind. Written as a conditional at each use (like MatVecVector.dot1x1):
    // the per-kind loaders are small enough for C2 to inline there, and the loop-invariant kind test is
    // hoisted; a shared dispatcher method was left un-inlined in whole models and boxed its vectors.

    /**
     * Activation rows 0..rows−1 (rows = 3 or 4; a missing fourth repeats the third, not stored), A row r at
     * {@code a[a0 + r*lda]}, against weight rows w0 + t·step.
     */
    static void far4x4(int k, int rows, float[] a, int a0, int lda, int kind, MemorySegment w, long w0, long step,
                       float[] c, int c0, int ldc, int cs, float[] t) {
        int a1 = a0 + lda, a2 = a1 + lda, a3 = rows > 3 ? a2 + lda : a2;
        long w1 = w0 + step, w2 = w1 + step, w3 = w2 + step;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
        int kv = k - k % VL;
        for (int p = 0; p < kv; p += VL) {
            FloatVector x0 = FloatVector.fromArray(F, a, a0 + p), x1 = FloatVector.fromArray(F, a, a1 + p);
            FloatVector x2 = FloatVector.fromArray(F, a, a2 + p), x3 = FloatVector.fromArray(F, a, a3 + p);
            FloatVector v = kind == KIND_F32 ? loadF32(w, w0 + p) : kind == KIND_BF16 ? loadBf16(w, w0 + p)
                    : loadF16(w, w0 + p);
            s00 = v.fma(x0, s00);
            s01 = v.fma(x1, s01);
            s02 = v.fma(x2, s02);
            s03 = v.fma(x3, s03);
            v = kind == KIND_F32 ? loadF32(w, w1 + p) : kind == KIND_BF16 ? loadBf16(w, w1 + p) : loadF16(w, w1 + p);
            s10 = v.fma(x0, s10);
            s11 = v.fma(x1, s11);
            s12 = v.fma(x2, s12);
            s13 = v.fma(x3, s13);
            v = kind == KIND_F32 ? loadF32(w, w2 + p) : kind == KIND_BF16 ? loadBf16(w, w2 + p) : loadF16(w, w2 + p);
            s20 = v.fma(x0, s20);
            s21 = v.fma(x1, s21);
            s22 = v.fma(x2, s22);
            s23 = v.fma(x3, s23);
            v = kind == KIND_F32 ? loadF32(w, w3 + p) : kind == KIND_BF16 ? loadBf16(w, w3 + p) : loadF16(w, w3 + p);
            s30 = v.fma(x0, s30);
            s31 = v.fma(x1, s31);
            s32 = v.fma(x2, s32);
            s33 = v.fma(x3, s33);
        }
        // t [16·VL]: the accumulators stored, folded in scalar code (see GemmSpecies.fold)
        s00.intoArray(t, 0 * VL);
        s10.intoArray(t, 1 * VL);
        s20.intoArray(t, 2 * VL);
        s30.intoArray(t, 3 * VL);
        s01.intoArray(t, 4 * VL);
        s11.intoArray(t, 5 * VL);
        s21.intoArray(t, 6 * VL);
        s31.intoArray(t, 7 * VL);
        s02.intoArray(t, 8 * VL);
        s12.intoArray(t, 9 * VL);
        s22.intoArray(t, 10 * VL);
        s32.intoArray(t, 11 * VL);
        s03.intoArray(t, 12 * VL);
        s13.intoArray(t, 13 * VL);
        s23.intoArray(t, 14 * VL);
        s33.intoArray(t, 15 * VL);
        int c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        c[c0] = tail(k, kv, a, a0, kind, w, w0, fold(t, 0 * VL));
        c[c0 + cs] = tail(k, kv, a, a0, kind, w, w1, fold(t, 1 * VL));
        c[c0 + 2 * cs] = tail(k, kv, a, a0, kind, w, w2, fold(t, 2 * VL));
        c[c0 + 3 * cs] = tail(k, kv, a, a0, kind, w, w3, fold(t, 3 * VL));
        c[c1] = tail(k, kv, a, a1, kind, w, w0, fold(t, 4 * VL));
        c[c1 + cs] = tail(k, kv, a, a1, kind, w, w1, fold(t, 5 * VL));
        c[c1 + 2 * cs] = tail(k, kv, a, a1, kind, w, w2, fold(t, 6 * VL));
        c[c1 + 3 * cs] = tail(k, kv, a, a1, kind, w, w3, fold(t, 7 * VL));
        c[c2] = tail(k, kv, a, a2, kind, w, w0, fold(t, 8 * VL));
        c[c2 + cs] = tail(k, kv, a, a2, kind, w, w1, fold(t, 9 * VL));
        c[c2 + 2 * cs] = tail(k, kv, a, a2, kind, w, w2, fold(t, 10 * VL));
        c[c2 + 3 * cs] = tail(k, kv, a, a2, kind, w, w3, fold(t, 11 * VL));
        if (rows > 3) {
            c[c3] = tail(k, kv, a, a3, kind, w, w0, fold(t, 12 * VL));
            c[c3 + cs] = tail(k, kv, a, a3, kind, w, w1, fold(t, 13 * VL));
            c[c3 + 2 * cs] = tail(k, kv, a, a3, kind, w, w2, fold(t, 14 * VL));
            c[c3 + 3 * cs] = tail(k, kv, a, a3, kind, w, w3, fold(t, 15 * VL));
        }
    }

    /** Activation rows 0 and 1 (A row r at {@code a[a0 + r*lda]}) against weight rows w0 + t·step. */
    static void far4x2(int k, float[] a, int a0, int lda, int kind, MemorySegment w, long w0, long step,
                       float[] c, int c0, int ldc, int cs, float[] t) {
        int a1 = a0 + lda;
        long w1 = w0 + step, w2 = w1 + step, w3 = w2 + step;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
        int kv = k - k % VL;
        for (int p = 0; p < kv; p += VL) {
            FloatVector x0 = FloatVector.fromArray(F, a, a0 + p), x1 = FloatVector.fromArray(F, a, a1 + p);
            FloatVector v = kind == KIND_F32 ? loadF32(w, w0 + p) : kind == KIND_BF16 ? loadBf16(w, w0 + p)
                    : loadF16(w, w0 + p);
            s00 = v.fma(x0, s00);
            s01 = v.fma(x1, s01);
            v = kind == KIND_F32 ? loadF32(w, w1 + p) : kind == KIND_BF16 ? loadBf16(w, w1 + p) : loadF16(w, w1 + p);
            s10 = v.fma(x0, s10);
            s11 = v.fma(x1, s11);
            v = kind == KIND_F32 ? loadF32(w, w2 + p) : kind == KIND_BF16 ? loadBf16(w, w2 + p) : loadF16(w, w2 + p);
            s20 = v.fma(x0, s20);
            s21 = v.fma(x1, s21);
            v = kind == KIND_F32 ? loadF32(w, w3 + p) : kind == KIND_BF16 ? loadBf16(w, w3 + p) : loadF16(w, w3 + p);
            s30 = v.fma(x0, s30);
            s31 = v.fma(x1, s31);
        }
        s00.intoArray(t, 0 * VL);
        s10.intoArray(t, 1 * VL);
        s20.intoArray(t, 2 * VL);
        s30.intoArray(t, 3 * VL);
        s01.intoArray(t, 4 * VL);
        s11.intoArray(t, 5 * VL);
        s21.intoArray(t, 6 * VL);
        s31.intoArray(t, 7 * VL);
        int c1 = c0 + ldc;
        c[c0] = tail(k, kv, a, a0, kind, w, w0, fold(t, 0 * VL));
        c[c0 + cs] = tail(k, kv, a, a0, kind, w, w1, fold(t, 1 * VL));
        c[c0 + 2 * cs] = tail(k, kv, a, a0, kind, w, w2, fold(t, 2 * VL));
        c[c0 + 3 * cs] = tail(k, kv, a, a0, kind, w, w3, fold(t, 3 * VL));
        c[c1] = tail(k, kv, a, a1, kind, w, w0, fold(t, 4 * VL));
        c[c1 + cs] = tail(k, kv, a, a1, kind, w, w1, fold(t, 5 * VL));
        c[c1 + 2 * cs] = tail(k, kv, a, a1, kind, w, w2, fold(t, 6 * VL));
        c[c1 + 3 * cs] = tail(k, kv, a, a1, kind, w, w3, fold(t, 7 * VL));
    }
}
