package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.I;
import static dev.interlayer.tensor.simd.GemmSpecies.LE;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;

import dev.interlayer.tensor.ThreadSlot;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.*;

/**
 * The dot-product path for BF16 weights without any cross-lane conversion: one int vector holds
 * 2·VL bf16 values; {@code v << 16} is the even ones as floats and {@code v & 0xFFFF0000} the odd
 * ones. The activations are reordered to match once per call (per block of 2·VL: the VL even
 * elements, then the VL odd ones; the k tail stays in order), so the inner loop is one load, two
 * bit operations and two FMAs per 2·VL weights. The reordered activations live in a per-thread
 * buffer (no allocation per token once warm).
 */
final class MatVecBf16 {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final int BLOCK = 2 * VL;
    // One reusable buffer per thread, leased out by reorder() and handed back by release(). While a
    // thread waits for its own parallel loop it may run another caller's work on the pool; that nested
    // call finds the slot empty and allocates, instead of overwriting activations the loop still reads.
    private static final ThreadSlot<float[]> XP = new ThreadSlot<>();

    private MatVecBf16() {
    }

    /** Activations reordered for this path: [m, k], even/odd split within each whole block. */
    static float[] reorder(int m, int k, float[] a, int aOff, int lda) {
        float[] xp = XP.lease();                          // leased until release(xp)
        if (xp == null || xp.length < m * k) {
            xp = new float[m * k];
        }
        int kb = k - k % BLOCK;
        for (int i = 0; i < m; i++) {
            int src = aOff + i * lda, dst = i * k;
            for (int b = 0; b < kb; b += BLOCK) {
                for (int l = 0; l < VL; l++) {
                    xp[dst + b + l] = a[src + b + 2 * l];
                    xp[dst + b + VL + l] = a[src + b + 2 * l + 1];
                }
            }
            System.arraycopy(a, src + kb, xp, dst + kb, k - kb);
        }
        return xp;
    }

    /** Hands a buffer from {@link #reorder} back to this thread's slot for reuse. */
    static void release(float[] xp) {
        XP.release(xp);
    }

    /** As {@code MatVecVector.rows}, with {@code xp} from {@link #reorder} (row stride k). */
    static void rows(int m, int k, float[] xp, MemorySegment w, long wOff, long ldw, float[] c, int cOff, int ldc,
                     int j0, int j1) {
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            for (int i = 0; i < m; i++) {
                dot4(k, xp, i * k, w, wOff + j * ldw, ldw, c, cOff + i * ldc + j);
            }
        }
        for (; j < j1; j++) {
            for (int i = 0; i < m; i++) {
                c[cOff + i * ldc + j] = dot1(k, xp, i * k, w, wOff + j * ldw);
            }
        }
    }

    private static FloatVector even(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector odd(IntVector v) {
        return v.and(0xFFFF_0000).reinterpretAsFloats();
    }

    private static IntVector ints(MemorySegment w, long elem) {
        return IntVector.fromMemorySegment(I, w, elem << 1, LE);
    }

    private static float bf16(MemorySegment w, long elem) {
        return Float.intBitsToFloat(w.get(I16, elem << 1) << 16);
    }

    private static void dot4(int k, float[] x, int xi, MemorySegment w, long w0, long ldw, float[] c, int ci) {
        long w1 = w0 + ldw, w2 = w1 + ldw, w3 = w2 + ldw;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int kb = k - k % BLOCK;
        for (int p = 0; p < kb; p += BLOCK) {
            FloatVector xe = FloatVector.fromArray(F, x, xi + p), xo = FloatVector.fromArray(F, x, xi + p + VL);
            IntVector v0 = ints(w, w0 + p), v1 = ints(w, w1 + p), v2 = ints(w, w2 + p), v3 = ints(w, w3 + p);
            s0 = odd(v0).fma(xo, even(v0).fma(xe, s0));
            s1 = odd(v1).fma(xo, even(v1).fma(xe, s1));
            s2 = odd(v2).fma(xo, even(v2).fma(xe, s2));
            s3 = odd(v3).fma(xo, even(v3).fma(xe, s3));
        }
        float r0 = s0.reduceLanes(VectorOperators.ADD), r1 = s1.reduceLanes(VectorOperators.ADD);
        float r2 = s2.reduceLanes(VectorOperators.ADD), r3 = s3.reduceLanes(VectorOperators.ADD);
        for (int p = kb; p < k; p++) {
            float xv = x[xi + p];
            r0 += bf16(w, w0 + p) * xv;
            r1 += bf16(w, w1 + p) * xv;
            r2 += bf16(w, w2 + p) * xv;
            r3 += bf16(w, w3 + p) * xv;
        }
        c[ci] = r0;
        c[ci + 1] = r1;
        c[ci + 2] = r2;
        c[ci + 3] = r3;
    }

    private static float dot1(int k, float[] x, int xi, MemorySegment w, long wj) {
        FloatVector s = FloatVector.zero(F);
        int kb = k - k % BLOCK;
        for (int p = 0; p < kb; p += BLOCK) {
            IntVector v = ints(w, wj + p);
            s = odd(v).fma(FloatVector.fromArray(F, x, xi + p + VL), even(v).fma(FloatVector.fromArray(F, x, xi + p), s));
        }
        float r = s.reduceLanes(VectorOperators.ADD);
        for (int p = kb; p < k; p++) {
            r += bf16(w, wj + p) * x[xi + p];
        }
        return r;
    }
}
