package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.KIND_BF16;
import static dev.interlayer.tensor.simd.GemmSpecies.KIND_F16;
import static dev.interlayer.tensor.simd.GemmSpecies.KIND_F32;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmSpecies.load;
import static dev.interlayer.tensor.simd.GemmSpecies.loadBf16;
import static dev.interlayer.tensor.simd.GemmSpecies.loadF16;
import static dev.interlayer.tensor.simd.GemmSpecies.loadF32;
import static dev.interlayer.tensor.simd.GemmSpecies.scalar;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.*;

/**
 * Dot-product form of C = A·Wᵀ for W rows that are contiguous in k: decode (m = 1, a matrix-vector
 * product) and the small-m path. Each weight row is streamed once from its segment (a mapping is
 * fine; F16/BF16 are widened in registers) and reused for every activation row while it is in
 * cache, so the cost is one pass over the weights. Tiles: 4 weight rows × 3 activation rows
 * (12 accumulators), 4 × 1 for the rest; k tail in scalar code. BF16 weights take {@link MatVecBf16} instead.
 */
final class MatVecVector {

    private MatVecVector() {
    }

    /**
     * C[i, j] = Σ_p A[i, p]·W[j, p] for i &lt; m and weight rows j in [j0, j1).
     * Shapes: A [m, k] rows at a[aOff + i*lda]; W rows at w[wOff + j*ldw] (unit k stride); C rows at c[cOff + i*ldc].
     */
    static void rows(int m, int k, float[] a, int aOff, int lda, int kind, MemorySegment w, long wOff,
                     long ldw, float[] c, int cOff, int ldc, int j0, int j1) {
        if (m == 1) {
            decodeRows(k, a, aOff, kind, w, wOff, ldw, c, cOff, j0, j1);
            return;
        }
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            long wj = wOff + j * ldw;
            int i = 0;
            for (; i + 3 <= m; i += 3) {
                dot4x3(k, a, aOff + i * lda, lda, kind, w, wj, ldw, c, cOff + i * ldc + j, ldc);
            }
            for (; i < m; i++) {
                dot4x1(k, a, aOff + i * lda, kind, w, wj, ldw, c, cOff + i * ldc + j);
            }
        }
        for (; j < j1; j++) {
            long wj = wOff + j * ldw;
            for (int i = 0; i < m; i++) {
                c[cOff + i * ldc + j] = dot1x1(k, a, aOff + i * lda, kind, w, wj);
            }
        }
    }

    /**
     * m = 1 (decode): c[j] = W[j]·a for j in [j0, j1). The range is cut into four equal quarters and one
     * tile takes a row from each (rows j, j+q, j+2q, j+3q): four read streams far apart in memory. Measured
     * on one thread, 256 MB of weights (GB/s): F32 k = 2048 35 against 29 for two adjacent rows and 27
     * for one row at a time; BF16 k = 2048 32 against 27, and k = 8192 32 against 19 (two adjacent 16 KB
     * rows collide in the cache sets and the prefetcher). A plain streaming sum reads 33 GB/s with one
     * stream and 40 with two to eight. The 0-3 rows left over take 2-row and 1-row tiles.
     */
    static void decodeRows(int k, float[] a, int aOff, int kind, MemorySegment w, long wOff, long ldw, float[] c,
                           int cOff, int j0, int j1) {
        // One loop per storage kind, chosen here: a kernel that sees one kind keeps a stable profile and
        // small code, so C2 inlines its loads. A shared load(kind, ...) was left un-inlined once a JVM had
        // run F16 and F32 models (compiled too big), and every vector it returned was boxed (~1 MB/token).
        int q = (j1 - j0) / 4;
        long quarter = q * ldw;
        for (int j = j0; j < j0 + q; j++) {
            long w0 = wOff + j * ldw;
            switch (kind) {
                case KIND_F32 -> dot4FarF32(k, a, aOff, w, w0, quarter, c, cOff + j, q);
                case KIND_BF16 -> dot4FarBf16(k, a, aOff, w, w0, quarter, c, cOff + j, q);
                default -> dot4FarF16(k, a, aOff, w, w0, quarter, c, cOff + j, q);
            }
        }
        int j = j0 + 4 * q;
        for (; j + 2 <= j1; j += 2) {
            long w0 = wOff + j * ldw;
            switch (kind) {
                case KIND_F32 -> dot2x1F32(k, a, aOff, w, w0, ldw, c, cOff + j);
                case KIND_BF16 -> dot2x1Bf16(k, a, aOff, w, w0, ldw, c, cOff + j);
                default -> dot2x1F16(k, a, aOff, w, w0, ldw, c, cOff + j);
            }
        }
        for (; j < j1; j++) {
            c[cOff + j] = dot1x1(k, a, aOff, kind, w, wOff + j * ldw);
        }
    }

    // dot4Far for F32, BF16 and F16 weights: rows w0 + t*step for t < 4, outputs c[ci + t*cs]; the same
    // loop, each with its own load (see decodeRows).

    private static void dot4FarF32(int k, float[] a, int ai, MemorySegment w, long w0, long step, float[] c, int ci,
                                   int cs) {
        long w1 = w0 + step, w2 = w1 + step, w3 = w2 + step;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int kv = k - k % VL;
        for (int p = 0; p < kv; p += VL) {
            FloatVector x = FloatVector.fromArray(F, a, ai + p);
            s0 = loadF32(w, w0 + p).fma(x, s0);
            s1 = loadF32(w, w1 + p).fma(x, s1);
            s2 = loadF32(w, w2 + p).fma(x, s2);
            s3 = loadF32(w, w3 + p).fma(x, s3);
        }
        finish4(k, kv, a, ai, KIND_F32, w, w0, step, s0.reduceLanes(VectorOperators.ADD),
                s1.reduceLanes(VectorOperators.ADD), s2.reduceLanes(VectorOperators.ADD),
                s3.reduceLanes(VectorOperators.ADD), c, ci, cs);
    }

    private static void dot4FarBf16(int k, float[] a, int ai, MemorySegment w, long w0, long step, float[] c, int ci,
                                    int cs) {
        long w1 = w0 + step, w2 = w1 + step, w3 = w2 + step;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int kv = k - k % VL;
        for (int p = 0; p < kv; p += VL) {
            FloatVector x = FloatVector.fromArray(F, a, ai + p);
            s0 = loadBf16(w, w0 + p).fma(x, s0);
            s1 = loadBf16(w, w1 + p).fma(x, s1);
            s2 = loadBf16(w, w2 + p).fma(x, s2);
            s3 = loadBf16(w, w3 + p).fma(x, s3);
        }
        finish4(k, kv, a, ai, KIND_BF16, w, w0, step, s0.reduceLanes(VectorOperators.ADD),
                s1.reduceLanes(VectorOperators.ADD), s2.reduceLanes(VectorOperators.ADD),
                s3.reduceLanes(VectorOperators.ADD), c, ci, cs);
    }

    private static void dot4FarF16(int k, float[] a, int ai, MemorySegment w, long w0, long step, float[] c, int ci,
                                   int cs) {
        long w1 = w0 + step, w2 = w1 + step, w3 = w2 + step;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int kv = k - k % VL;
        for (int p = 0; p < kv; p += VL) {
            FloatVector x = FloatVector.fromArray(F, a, ai + p);
            s0 = loadF16(w, w0 + p).fma(x, s0);
            s1 = loadF16(w, w1 + p).fma(x, s1);
            s2 = loadF16(w, w2 + p).fma(x, s2);
            s3 = loadF16(w, w3 + p).fma(x, s3);
        }
        finish4(k, kv, a, ai, KIND_F16, w, w0, step, s0.reduceLanes(VectorOperators.ADD),
                s1.reduceLanes(VectorOperators.ADD), s2.reduceLanes(VectorOperators.ADD),
                s3.reduceLanes(VectorOperators.ADD), c, ci, cs);
    }

    // The scalar k tail [kv, k) of four rows w0 + t*step added to their vector sums; stores c[ci + t*cs].
    private static void finish4(int k, int kv, float[] a, int ai, int kind, MemorySegment w, long w0, long step,
                                float r0, float r1, float r2, float r3, float[] c, int ci, int cs) {
        long w1 = w0 + step, w2 = w1 + step, w3 = w2 + step;
        for (int p = kv; p < k; p++) {
            float x = a[ai + p];
            r0 += scalar(kind, w, w0 + p) * x;
            r1 += scalar(kind, w, w1 + p) * x;
            r2 += scalar(kind, w, w2 + p) * x;
            r3 += scalar(kind, w, w3 + p) * x;
        }
        c[ci] = r0;
        c[ci + cs] = r1;
        c[ci + 2 * cs] = r2;
        c[ci + 3 * cs] = r3;
    }

    // dot2x1 for F32, BF16 and F16 weights: the same loop, each with its own load (see decodeRows).

    private static void dot2x1F32(int k, float[] a, int ai, MemorySegment w, long w0, long ldw, float[] c, int ci) {
        long w1 = w0 + ldw;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, t0 = s0, t1 = s0;
        int kv = k - k % (2 * VL);
        for (int p = 0; p < kv; p += 2 * VL) {
            FloatVector x = FloatVector.fromArray(F, a, ai + p), y = FloatVector.fromArray(F, a, ai + p + VL);
            s0 = loadF32(w, w0 + p).fma(x, s0);
            t0 = loadF32(w, w0 + p + VL).fma(y, t0);
            s1 = loadF32(w, w1 + p).fma(x, s1);
            t1 = loadF32(w, w1 + p + VL).fma(y, t1);
        }
        if (kv + VL <= k) {
            FloatVector x = FloatVector.fromArray(F, a, ai + kv);
            s0 = loadF32(w, w0 + kv).fma(x, s0);
            s1 = loadF32(w, w1 + kv).fma(x, s1);
            kv += VL;
        }
        finish2(k, kv, a, ai, KIND_F32, w, w0, w1, s0.add(t0).reduceLanes(VectorOperators.ADD),
                s1.add(t1).reduceLanes(VectorOperators.ADD), c, ci);
    }

    private static void dot2x1Bf16(int k, float[] a, int ai, MemorySegment w, long w0, long ldw, float[] c, int ci) {
        long w1 = w0 + ldw;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, t0 = s0, t1 = s0;
        int kv = k - k % (2 * VL);
        for (int p = 0; p < kv; p += 2 * VL) {
            FloatVector x = FloatVector.fromArray(F, a, ai + p), y = FloatVector.fromArray(F, a, ai + p + VL);
            s0 = loadBf16(w, w0 + p).fma(x, s0);
            t0 = loadBf16(w, w0 + p + VL).fma(y, t0);
            s1 = loadBf16(w, w1 + p).fma(x, s1);
            t1 = loadBf16(w, w1 + p + VL).fma(y, t1);
        }
        if (kv + VL <= k) {
            FloatVector x = FloatVector.fromArray(F, a, ai + kv);
            s0 = loadBf16(w, w0 + kv).fma(x, s0);
            s1 = loadBf16(w, w1 + kv).fma(x, s1);
            kv += VL;
        }
        finish2(k, kv, a, ai, KIND_BF16, w, w0, w1, s0.add(t0).reduceLanes(VectorOperators.ADD),
                s1.add(t1).reduceLanes(VectorOperators.ADD), c, ci);
    }

    private static void dot2x1F16(int k, float[] a, int ai, MemorySegment w, long w0, long ldw, float[] c, int ci) {
        long w1 = w0 + ldw;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, t0 = s0, t1 = s0;
        int kv = k - k % (2 * VL);
        for (int p = 0; p < kv; p += 2 * VL) {
            FloatVector x = FloatVector.fromArray(F, a, ai + p), y = FloatVector.fromArray(F, a, ai + p + VL);
            s0 = loadF16(w, w0 + p).fma(x, s0);
            t0 = loadF16(w, w0 + p + VL).fma(y, t0);
            s1 = loadF16(w, w1 + p).fma(x, s1);
            t1 = loadF16(w, w1 + p + VL).fma(y, t1);
        }
        if (kv + VL <= k) {
            FloatVector x = FloatVector.fromArray(F, a, ai + kv);
            s0 = loadF16(w, w0 + kv).fma(x, s0);
            s1 = loadF16(w, w1 + kv).fma(x, s1);
            kv += VL;
        }
        finish2(k, kv, a, ai, KIND_F16, w, w0, w1, s0.add(t0).reduceLanes(VectorOperators.ADD),
                s1.add(t1).reduceLanes(VectorOperators.ADD), c, ci);
    }

    // Adds the scalar k tail [kv, k) of two rows to their vector sums r0, r1 and stores c[ci], c[ci+1]
    // (floats, not vectors, cross this call: a vector argument to a call C2 does not inline is boxed).
    private static void finish2(int k, int kv, float[] a, int ai, int kind, MemorySegment w, long w0, long w1,
                                float r0, float r1, float[] c, int ci) {
        for (int p = kv; p < k; p++) {
            float x = a[ai + p];
            r0 += scalar(kind, w, w0 + p) * x;
            r1 += scalar(kind, w, w1 + p) * x;
        }
        c[ci] = r0;
        c[ci + 1] = r1;
    }

    // ---- tiles ----

    private static void dot4x1(int k, float[] a, int ai, int kind, MemorySegment w, long w0, long ldw,
                               float[] c, int ci) {
        long w1 = w0 + ldw, w2 = w1 + ldw, w3 = w2 + ldw;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int kv = k - k % VL;
        for (int p = 0; p < kv; p += VL) {
            FloatVector x = FloatVector.fromArray(F, a, ai + p);
            s0 = load(kind, w, w0 + p).fma(x, s0);
            s1 = load(kind, w, w1 + p).fma(x, s1);
            s2 = load(kind, w, w2 + p).fma(x, s2);
            s3 = load(kind, w, w3 + p).fma(x, s3);
        }
        float r0 = s0.reduceLanes(VectorOperators.ADD), r1 = s1.reduceLanes(VectorOperators.ADD);
        float r2 = s2.reduceLanes(VectorOperators.ADD), r3 = s3.reduceLanes(VectorOperators.ADD);
        for (int p = kv; p < k; p++) {
            float x = a[ai + p];
            r0 += scalar(kind, w, w0 + p) * x;
            r1 += scalar(kind, w, w1 + p) * x;
            r2 += scalar(kind, w, w2 + p) * x;
            r3 += scalar(kind, w, w3 + p) * x;
        }
        c[ci] = r0;
        c[ci + 1] = r1;
        c[ci + 2] = r2;
        c[ci + 3] = r3;
    }

    private static void dot4x3(int k, float[] a, int a0, int lda, int kind, MemorySegment w, long w0,
                               long ldw, float[] c, int ci, int ldc) {
        int a1 = a0 + lda, a2 = a1 + lda;
        long w1 = w0 + ldw, w2 = w1 + ldw, w3 = w2 + ldw;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z, s10 = z, s11 = z, s12 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s30 = z, s31 = z, s32 = z;
        int kv = k - k % VL;
        for (int p = 0; p < kv; p += VL) {
            FloatVector x0 = FloatVector.fromArray(F, a, a0 + p);
            FloatVector x1 = FloatVector.fromArray(F, a, a1 + p);
            FloatVector x2 = FloatVector.fromArray(F, a, a2 + p);
            FloatVector v = load(kind, w, w0 + p);
            s00 = v.fma(x0, s00);
            s01 = v.fma(x1, s01);
            s02 = v.fma(x2, s02);
            v = load(kind, w, w1 + p);
            s10 = v.fma(x0, s10);
            s11 = v.fma(x1, s11);
            s12 = v.fma(x2, s12);
            v = load(kind, w, w2 + p);
            s20 = v.fma(x0, s20);
            s21 = v.fma(x1, s21);
            s22 = v.fma(x2, s22);
            v = load(kind, w, w3 + p);
            s30 = v.fma(x0, s30);
            s31 = v.fma(x1, s31);
            s32 = v.fma(x2, s32);
        }
        // Scalar locals, not a float[12]: C2 did not scalar-replace that array (~230 MB per 1B prefill).
        float r00 = s00.reduceLanes(VectorOperators.ADD), r10 = s10.reduceLanes(VectorOperators.ADD);
        float r20 = s20.reduceLanes(VectorOperators.ADD), r30 = s30.reduceLanes(VectorOperators.ADD);
        float r01 = s01.reduceLanes(VectorOperators.ADD), r11 = s11.reduceLanes(VectorOperators.ADD);
        float r21 = s21.reduceLanes(VectorOperators.ADD), r31 = s31.reduceLanes(VectorOperators.ADD);
        float r02 = s02.reduceLanes(VectorOperators.ADD), r12 = s12.reduceLanes(VectorOperators.ADD);
        float r22 = s22.reduceLanes(VectorOperators.ADD), r32 = s32.reduceLanes(VectorOperators.ADD);
        for (int p = kv; p < k; p++) {
            float x0 = a[a0 + p], x1 = a[a1 + p], x2 = a[a2 + p];
            float v0 = scalar(kind, w, w0 + p), v1 = scalar(kind, w, w1 + p);
            float v2 = scalar(kind, w, w2 + p), v3 = scalar(kind, w, w3 + p);
            r00 += v0 * x0;
            r10 += v1 * x0;
            r20 += v2 * x0;
            r30 += v3 * x0;
            r01 += v0 * x1;
            r11 += v1 * x1;
            r21 += v2 * x1;
            r31 += v3 * x1;
            r02 += v0 * x2;
            r12 += v1 * x2;
            r22 += v2 * x2;
            r32 += v3 * x2;
        }
        int c1 = ci + ldc, c2 = c1 + ldc;
        c[ci] = r00;
        c[ci + 1] = r10;
        c[ci + 2] = r20;
        c[ci + 3] = r30;
        c[c1] = r01;
        c[c1 + 1] = r11;
        c[c1 + 2] = r21;
        c[c1 + 3] = r31;
        c[c2] = r02;
        c[c2 + 1] = r12;
        c[c2 + 2] = r22;
        c[c2 + 3] = r32;
    }

    private static float dot1x1(int k, float[] a, int ai, int kind, MemorySegment w, long wj) {
        int kv = k - k % VL;
        float r = 0;
        // No vector at all when k < VL (a tiny model): a vector loop that never runs leaves its vectors without a
        // type profile, C2 then compiled fma/reduceLanes as virtual calls and boxed the accumulator (96 B per
        // token on the 2-wide HF GPT-2 fixture, whose 50257-row head leaves one row for this tile).
        if (kv > 0) {
            FloatVector s = FloatVector.zero(F);
            for (int p = 0; p < kv; p += VL) {
                // per-kind loaders, each small enough to inline (see decodeRows)
                FloatVector v = kind == KIND_F32 ? loadF32(w, wj + p)
                        : kind == KIND_BF16 ? loadBf16(w, wj + p) : loadF16(w, wj + p);
                s = v.fma(FloatVector.fromArray(F, a, ai + p), s);
            }
            r = s.reduceLanes(VectorOperators.ADD);
        }
        for (int p = kv; p < k; p++) {
            r += scalar(kind, w, wj + p) * a[ai + p];
        }
        return r;
    }
}
