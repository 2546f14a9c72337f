package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmWeightStream.MR;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * {@link GemmDirectKernel#micro2}'s 12-row × 2-vector tile for a group that serves several token panels:
 * tile[r*NR + t] = Σ_p W[min(r, rows − 1), p]·xp[xi + p*NR + t]. The first panel ({@link #inPlace}) reads the
 * weights in place, as micro2 does, and also stores each broadcast weight to pk[p*12 + r]; the later panels
 * ({@link #packed}) broadcast from that copy at constant offsets. Same FMA order as micro2, so the same sums.
 *
 * <p>Why: micro2's 12 row pointers do not fit C2's free general registers (reloads and moves, ~60 instructions
 * per 24 FMAs); one packed stream needs one pointer. A separate copy of the group cost more than it saved
 * (BENCHMARKS §25); here the copy rides on the loads the first panel makes anyway (BENCHMARKS §30).
 */
final class GemmPackedGroup {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private GemmPackedGroup() {
    }

    /**
     * {@link GemmDirectKernel#micro2} that also writes pk[p*12 + r] = W[min(r, rows − 1), p] for p &lt; kc, r &lt; 12.
     */
    static void inPlace(int kc, MemorySegment w, long w0, long ldw, int rows, float[] xp, int xi, float[] tile,
                        float[] pk) {
        int nr = 2 * VL;
        long base = w0 << 2, st = ldw << 2;
        long o0 = base + Math.min(0, rows - 1) * st;
        long o1 = base + Math.min(1, rows - 1) * st;
        long o2 = base + Math.min(2, rows - 1) * st;
        long o3 = base + Math.min(3, rows - 1) * st;
        long o4 = base + Math.min(4, rows - 1) * st;
        long o5 = base + Math.min(5, rows - 1) * st;
        long o6 = base + Math.min(6, rows - 1) * st;
        long o7 = base + Math.min(7, rows - 1) * st;
        long o8 = base + Math.min(8, rows - 1) * st;
        long o9 = base + Math.min(9, rows - 1) * st;
        long o10 = base + Math.min(10, rows - 1) * st;
        long o11 = base + Math.min(11, rows - 1) * st;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z;
        FloatVector a6 = z, b6 = z, a7 = z, b7 = z, a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        for (int p = 0, pi = 0; p < kc; p++, xi += nr, pi += MR) {
            long q = (long) p << 2;
            FloatVector x0 = FloatVector.fromArray(F, xp, xi);
            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);
            float s;
            FloatVector v;
            s = w.get(F32, o0 + q);
            pk[pi + 0] = s;
            v = FloatVector.broadcast(F, s);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            s = w.get(F32, o1 + q);
            pk[pi + 1] = s;
            v = FloatVector.broadcast(F, s);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            s = w.get(F32, o2 + q);
            pk[pi + 2] = s;
            v = FloatVector.broadcast(F, s);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            s = w.get(F32, o3 + q);
            pk[pi + 3] = s;
            v = FloatVector.broadcast(F, s);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            s = w.get(F32, o4 + q);
            pk[pi + 4] = s;
            v = FloatVector.broadcast(F, s);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            s = w.get(F32, o5 + q);
            pk[pi + 5] = s;
            v = FloatVector.broadcast(F, s);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            s = w.get(F32, o6 + q);
            pk[pi + 6] = s;
            v = FloatVector.broadcast(F, s);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            s = w.get(F32, o7 + q);
            pk[pi + 7] = s;
            v = FloatVector.broadcast(F, s);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            s = w.get(F32, o8 + q);
            pk[pi + 8] = s;
            v = FloatVector.broadcast(F, s);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            s = w.get(F32, o9 + q);
            pk[pi + 9] = s;
            v = FloatVector.broadcast(F, s);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            s = w.get(F32, o10 + q);
            pk[pi + 10] = s;
            v = FloatVector.broadcast(F, s);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            s = w.get(F32, o11 + q);
            pk[pi + 11] = s;
            v = FloatVector.broadcast(F, s);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
        }
        a0.intoArray(tile, 0 * nr);
        b0.intoArray(tile, 0 * nr + VL);
        a1.intoArray(tile, 1 * nr);
        b1.intoArray(tile, 1 * nr + VL);
        a2.intoArray(tile, 2 * nr);
        b2.intoArray(tile, 2 * nr + VL);
        a3.intoArray(tile, 3 * nr);
        b3.intoArray(tile, 3 * nr + VL);
        a4.intoArray(tile, 4 * nr);
        b4.intoArray(tile, 4 * nr + VL);
        a5.intoArray(tile, 5 * nr);
        b5.intoArray(tile, 5 * nr + VL);
        a6.intoArray(tile, 6 * nr);
        b6.intoArray(tile, 6 * nr + VL);
        a7.intoArray(tile, 7 * nr);
        b7.intoArray(tile, 7 * nr + VL);
        a8.intoArray(tile, 8 * nr);
        b8.intoArray(tile, 8 * nr + VL);
        a9.intoArray(tile, 9 * nr);
        b9.intoArray(tile, 9 * nr + VL);
        a10.intoArray(tile, 10 * nr);
        b10.intoArray(tile, 10 * nr + VL);
        a11.intoArray(tile, 11 * nr);
        b11.intoArray(tile, 11 * nr + VL);
    }

    /** The tile from the group packed by {@link #inPlace}: tile[r*NR + t] = Σ_p pk[p*12 + r]·xp[xi + p*NR + t]. */
    static void packed(int kc, float[] pk, float[] xp, int xi, float[] tile) {
        int nr = 2 * VL;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z;
        FloatVector a6 = z, b6 = z, a7 = z, b7 = z, a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        for (int p = 0, pi = 0; p < kc; p++, xi += nr, pi += MR) {
            FloatVector x0 = FloatVector.fromArray(F, xp, xi);
            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);
            FloatVector v;
            v = FloatVector.broadcast(F, pk[pi + 0]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, pk[pi + 1]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, pk[pi + 2]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, pk[pi + 3]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, pk[pi + 4]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, pk[pi + 5]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, pk[pi + 6]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, pk[pi + 7]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, pk[pi + 8]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, pk[pi + 9]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, pk[pi + 10]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, pk[pi + 11]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
        }
        a0.intoArray(tile, 0 * nr);
        b0.intoArray(tile, 0 * nr + VL);
        a1.intoArray(tile, 1 * nr);
        b1.intoArray(tile, 1 * nr + VL);
        a2.intoArray(tile, 2 * nr);
        b2.intoArray(tile, 2 * nr + VL);
        a3.intoArray(tile, 3 * nr);
        b3.intoArray(tile, 3 * nr + VL);
        a4.intoArray(tile, 4 * nr);
        b4.intoArray(tile, 4 * nr + VL);
        a5.intoArray(tile, 5 * nr);
        b5.intoArray(tile, 5 * nr + VL);
        a6.intoArray(tile, 6 * nr);
        b6.intoArray(tile, 6 * nr + VL);
        a7.intoArray(tile, 7 * nr);
        b7.intoArray(tile, 7 * nr + VL);
        a8.intoArray(tile, 8 * nr);
        b8.intoArray(tile, 8 * nr + VL);
        a9.intoArray(tile, 9 * nr);
        b9.intoArray(tile, 9 * nr + VL);
        a10.intoArray(tile, 10 * nr);
        b10.intoArray(tile, 10 * nr + VL);
        a11.intoArray(tile, 11 * nr);
        b11.intoArray(tile, 11 * nr + VL);
    }

    /** Row stride of {@link #copy}'s buffer: KC plus a cache line, so that the 12 rows do not alias in L1. */
    static final int STRIDE = GemmWeightStream.KC + 16;

    /** pk[r*STRIDE + p] = W[min(r, rows − 1), p] for r &lt; 12, p &lt; kc ≤ KC: vector copies of the 12 rows. */
    static void copy(int kc, MemorySegment w, long w0, long ldw, int rows, float[] pk) {
        int vk = kc - kc % VL;
        for (int r = 0; r < MR; r++) {
            long o = (w0 + Math.min(r, rows - 1) * ldw) << 2;
            int d = r * STRIDE;
            int p = 0;
            for (; p < vk; p += VL) {
                FloatVector.fromMemorySegment(F, w, o + ((long) p << 2), java.nio.ByteOrder.nativeOrder())
                        .intoArray(pk, d + p);
            }
            for (; p < kc; p++) {
                pk[d + p] = w.get(F32, o + ((long) p << 2));
            }
        }
    }

    /** The tile from the rows {@link #copy} wrote: tile[r*NR + t] = Σ_p pk[r*STRIDE + p]·xp[xi + p*NR + t]. */
    static void rows(int kc, float[] pk, float[] xp, int xi, float[] tile) {
        int nr = 2 * VL;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z;
        FloatVector a6 = z, b6 = z, a7 = z, b7 = z, a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        for (int p = 0; p < kc; p++, xi += nr) {
            FloatVector x0 = FloatVector.fromArray(F, xp, xi);
            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);
            FloatVector v;
            v = FloatVector.broadcast(F, pk[p + 0 * STRIDE]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, pk[p + 1 * STRIDE]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, pk[p + 2 * STRIDE]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, pk[p + 3 * STRIDE]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, pk[p + 4 * STRIDE]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, pk[p + 5 * STRIDE]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, pk[p + 6 * STRIDE]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, pk[p + 7 * STRIDE]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, pk[p + 8 * STRIDE]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, pk[p + 9 * STRIDE]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, pk[p + 10 * STRIDE]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, pk[p + 11 * STRIDE]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
        }
        a0.intoArray(tile, 0 * nr);
        b0.intoArray(tile, 0 * nr + VL);
        a1.intoArray(tile, 1 * nr);
        b1.intoArray(tile, 1 * nr + VL);
        a2.intoArray(tile, 2 * nr);
        b2.intoArray(tile, 2 * nr + VL);
        a3.intoArray(tile, 3 * nr);
        b3.intoArray(tile, 3 * nr + VL);
        a4.intoArray(tile, 4 * nr);
        b4.intoArray(tile, 4 * nr + VL);
        a5.intoArray(tile, 5 * nr);
        b5.intoArray(tile, 5 * nr + VL);
        a6.intoArray(tile, 6 * nr);
        b6.intoArray(tile, 6 * nr + VL);
        a7.intoArray(tile, 7 * nr);
        b7.intoArray(tile, 7 * nr + VL);
        a8.intoArray(tile, 8 * nr);
        b8.intoArray(tile, 8 * nr + VL);
        a9.intoArray(tile, 9 * nr);
        b9.intoArray(tile, 9 * nr + VL);
        a10.intoArray(tile, 10 * nr);
        b10.intoArray(tile, 10 * nr + VL);
        a11.intoArray(tile, 11 * nr);
        b11.intoArray(tile, 11 * nr + VL);
    }
    private static void copyChunk(MemorySegment w, long base, long st, int rows, int p, float[] pk) {
        for (int r = 0; r < MR; r++) {
            long o = base + Math.min(r, rows - 1) * st + ((long) p << 2);
            for (int u = 0; u < CH; u += VL) {
                FloatVector.fromMemorySegment(F, w, o + ((long) u << 2), ByteOrder.nativeOrder())
                        .intoArray(pk, r * STRIDE + p + u);
            }
        }
    }

    /** K steps per copy in {@link #fused}. */
    static final int CH = 16;

    /**
     * {@link #rows}'s tile for the group's first panel, copying the rows in as it goes: per CH k steps, the 12 rows'
     * next CH weights (W[min(r, rows − 1), p … p + CH) → pk[r*STRIDE + p …]), then CH written-out steps over them.
     */
    static void fused(int kc, MemorySegment w, long w0, long ldw, int rows, float[] xp, int xi, float[] tile,
                      float[] pk) {
        int nr = 2 * VL;
        long base = w0 << 2, st = ldw << 2;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z;
        FloatVector a6 = z, b6 = z, a7 = z, b7 = z, a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        int full = kc - kc % CH;
        int p = 0;
        if (full > 0) {
            copyChunk(w, base, st, rows, 0, pk);
        }
        for (; p < full; p += CH, xi += CH * nr) {
            if (p + CH < full) {
                copyChunk(w, base, st, rows, p + CH, pk);
            }
            for (int j = 0; j < CH; j += 4) {
                int xj = xi + j * nr, pj = p + j;
                FloatVector x0, x1, v;
                x0 = FloatVector.fromArray(F, xp, xj + 0 * nr);
                x1 = FloatVector.fromArray(F, xp, xj + 0 * nr + VL);
                v = FloatVector.broadcast(F, pk[pj + 0 + 0 * STRIDE]);
                a0 = v.fma(x0, a0);
                b0 = v.fma(x1, b0);
                v = FloatVector.broadcast(F, pk[pj + 0 + 1 * STRIDE]);
                a1 = v.fma(x0, a1);
                b1 = v.fma(x1, b1);
                v = FloatVector.broadcast(F, pk[pj + 0 + 2 * STRIDE]);
                a2 = v.fma(x0, a2);
                b2 = v.fma(x1, b2);
                v = FloatVector.broadcast(F, pk[pj + 0 + 3 * STRIDE]);
                a3 = v.fma(x0, a3);
                b3 = v.fma(x1, b3);
                v = FloatVector.broadcast(F, pk[pj + 0 + 4 * STRIDE]);
                a4 = v.fma(x0, a4);
                b4 = v.fma(x1, b4);
                v = FloatVector.broadcast(F, pk[pj + 0 + 5 * STRIDE]);
                a5 = v.fma(x0, a5);
                b5 = v.fma(x1, b5);
                v = FloatVector.broadcast(F, pk[pj + 0 + 6 * STRIDE]);
                a6 = v.fma(x0, a6);
                b6 = v.fma(x1, b6);
                v = FloatVector.broadcast(F, pk[pj + 0 + 7 * STRIDE]);
                a7 = v.fma(x0, a7);
                b7 = v.fma(x1, b7);
                v = FloatVector.broadcast(F, pk[pj + 0 + 8 * STRIDE]);
                a8 = v.fma(x0, a8);
                b8 = v.fma(x1, b8);
                v = FloatVector.broadcast(F, pk[pj + 0 + 9 * STRIDE]);
                a9 = v.fma(x0, a9);
                b9 = v.fma(x1, b9);
                v = FloatVector.broadcast(F, pk[pj + 0 + 10 * STRIDE]);
                a10 = v.fma(x0, a10);
                b10 = v.fma(x1, b10);
                v = FloatVector.broadcast(F, pk[pj + 0 + 11 * STRIDE]);
                a11 = v.fma(x0, a11);
                b11 = v.fma(x1, b11);
                x0 = FloatVector.fromArray(F, xp, xj + 1 * nr);
                x1 = FloatVector.fromArray(F, xp, xj + 1 * nr + VL);
                v = FloatVector.broadcast(F, pk[pj + 1 + 0 * STRIDE]);
                a0 = v.fma(x0, a0);
                b0 = v.fma(x1, b0);
                v = FloatVector.broadcast(F, pk[pj + 1 + 1 * STRIDE]);
                a1 = v.fma(x0, a1);
                b1 = v.fma(x1, b1);
                v = FloatVector.broadcast(F, pk[pj + 1 + 2 * STRIDE]);
                a2 = v.fma(x0, a2);
                b2 = v.fma(x1, b2);
                v = FloatVector.broadcast(F, pk[pj + 1 + 3 * STRIDE]);
                a3 = v.fma(x0, a3);
                b3 = v.fma(x1, b3);
                v = FloatVector.broadcast(F, pk[pj + 1 + 4 * STRIDE]);
                a4 = v.fma(x0, a4);
                b4 = v.fma(x1, b4);
                v = FloatVector.broadcast(F, pk[pj + 1 + 5 * STRIDE]);
                a5 = v.fma(x0, a5);
                b5 = v.fma(x1, b5);
                v = FloatVector.broadcast(F, pk[pj + 1 + 6 * STRIDE]);
                a6 = v.fma(x0, a6);
                b6 = v.fma(x1, b6);
                v = FloatVector.broadcast(F, pk[pj + 1 + 7 * STRIDE]);
                a7 = v.fma(x0, a7);
                b7 = v.fma(x1, b7);
                v = FloatVector.broadcast(F, pk[pj + 1 + 8 * STRIDE]);
                a8 = v.fma(x0, a8);
                b8 = v.fma(x1, b8);
                v = FloatVector.broadcast(F, pk[pj + 1 + 9 * STRIDE]);
                a9 = v.fma(x0, a9);
                b9 = v.fma(x1, b9);
                v = FloatVector.broadcast(F, pk[pj + 1 + 10 * STRIDE]);
                a10 = v.fma(x0, a10);
                b10 = v.fma(x1, b10);
                v = FloatVector.broadcast(F, pk[pj + 1 + 11 * STRIDE]);
                a11 = v.fma(x0, a11);
                b11 = v.fma(x1, b11);
                x0 = FloatVector.fromArray(F, xp, xj + 2 * nr);
                x1 = FloatVector.fromArray(F, xp, xj + 2 * nr + VL);
                v = FloatVector.broadcast(F, pk[pj + 2 + 0 * STRIDE]);
                a0 = v.fma(x0, a0);
                b0 = v.fma(x1, b0);
                v = FloatVector.broadcast(F, pk[pj + 2 + 1 * STRIDE]);
                a1 = v.fma(x0, a1);
                b1 = v.fma(x1, b1);
                v = FloatVector.broadcast(F, pk[pj + 2 + 2 * STRIDE]);
                a2 = v.fma(x0, a2);
                b2 = v.fma(x1, b2);
                v = FloatVector.broadcast(F, pk[pj + 2 + 3 * STRIDE]);
                a3 = v.fma(x0, a3);
                b3 = v.fma(x1, b3);
                v = FloatVector.broadcast(F, pk[pj + 2 + 4 * STRIDE]);
                a4 = v.fma(x0, a4);
                b4 = v.fma(x1, b4);
                v = FloatVector.broadcast(F, pk[pj + 2 + 5 * STRIDE]);
                a5 = v.fma(x0, a5);
                b5 = v.fma(x1, b5);
                v = FloatVector.broadcast(F, pk[pj + 2 + 6 * STRIDE]);
                a6 = v.fma(x0, a6);
                b6 = v.fma(x1, b6);
                v = FloatVector.broadcast(F, pk[pj + 2 + 7 * STRIDE]);
                a7 = v.fma(x0, a7);
                b7 = v.fma(x1, b7);
                v = FloatVector.broadcast(F, pk[pj + 2 + 8 * STRIDE]);
                a8 = v.fma(x0, a8);
                b8 = v.fma(x1, b8);
                v = FloatVector.broadcast(F, pk[pj + 2 + 9 * STRIDE]);
                a9 = v.fma(x0, a9);
                b9 = v.fma(x1, b9);
                v = FloatVector.broadcast(F, pk[pj + 2 + 10 * STRIDE]);
                a10 = v.fma(x0, a10);
                b10 = v.fma(x1, b10);
                v = FloatVector.broadcast(F, pk[pj + 2 + 11 * STRIDE]);
                a11 = v.fma(x0, a11);
                b11 = v.fma(x1, b11);
                x0 = FloatVector.fromArray(F, xp, xj + 3 * nr);
                x1 = FloatVector.fromArray(F, xp, xj + 3 * nr + VL);
                v = FloatVector.broadcast(F, pk[pj + 3 + 0 * STRIDE]);
                a0 = v.fma(x0, a0);
                b0 = v.fma(x1, b0);
                v = FloatVector.broadcast(F, pk[pj + 3 + 1 * STRIDE]);
                a1 = v.fma(x0, a1);
                b1 = v.fma(x1, b1);
                v = FloatVector.broadcast(F, pk[pj + 3 + 2 * STRIDE]);
                a2 = v.fma(x0, a2);
                b2 = v.fma(x1, b2);
                v = FloatVector.broadcast(F, pk[pj + 3 + 3 * STRIDE]);
                a3 = v.fma(x0, a3);
                b3 = v.fma(x1, b3);
                v = FloatVector.broadcast(F, pk[pj + 3 + 4 * STRIDE]);
                a4 = v.fma(x0, a4);
                b4 = v.fma(x1, b4);
                v = FloatVector.broadcast(F, pk[pj + 3 + 5 * STRIDE]);
                a5 = v.fma(x0, a5);
                b5 = v.fma(x1, b5);
                v = FloatVector.broadcast(F, pk[pj + 3 + 6 * STRIDE]);
                a6 = v.fma(x0, a6);
                b6 = v.fma(x1, b6);
                v = FloatVector.broadcast(F, pk[pj + 3 + 7 * STRIDE]);
                a7 = v.fma(x0, a7);
                b7 = v.fma(x1, b7);
                v = FloatVector.broadcast(F, pk[pj + 3 + 8 * STRIDE]);
                a8 = v.fma(x0, a8);
                b8 = v.fma(x1, b8);
                v = FloatVector.broadcast(F, pk[pj + 3 + 9 * STRIDE]);
                a9 = v.fma(x0, a9);
                b9 = v.fma(x1, b9);
                v = FloatVector.broadcast(F, pk[pj + 3 + 10 * STRIDE]);
                a10 = v.fma(x0, a10);
                b10 = v.fma(x1, b10);
                v = FloatVector.broadcast(F, pk[pj + 3 + 11 * STRIDE]);
                a11 = v.fma(x0, a11);
                b11 = v.fma(x1, b11);
            }
        }
        for (int r = 0; r < MR; r++) {
            long o = base + Math.min(r, rows - 1) * st;
            for (int q = p; q < kc; q++) {
                pk[r * STRIDE + q] = w.get(F32, o + ((long) q << 2));
            }
        }
        for (; p < kc; p++, xi += nr) {
            FloatVector x0 = FloatVector.fromArray(F, xp, xi);
            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);
            FloatVector v;
            v = FloatVector.broadcast(F, pk[p + 0 * STRIDE]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, pk[p + 1 * STRIDE]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, pk[p + 2 * STRIDE]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, pk[p + 3 * STRIDE]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, pk[p + 4 * STRIDE]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, pk[p + 5 * STRIDE]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, pk[p + 6 * STRIDE]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, pk[p + 7 * STRIDE]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, pk[p + 8 * STRIDE]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, pk[p + 9 * STRIDE]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, pk[p + 10 * STRIDE]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, pk[p + 11 * STRIDE]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
        }
        a0.intoArray(tile, 0 * nr);
        b0.intoArray(tile, 0 * nr + VL);
        a1.intoArray(tile, 1 * nr);
        b1.intoArray(tile, 1 * nr + VL);
        a2.intoArray(tile, 2 * nr);
        b2.intoArray(tile, 2 * nr + VL);
        a3.intoArray(tile, 3 * nr);
        b3.intoArray(tile, 3 * nr + VL);
        a4.intoArray(tile, 4 * nr);
        b4.intoArray(tile, 4 * nr + VL);
        a5.intoArray(tile, 5 * nr);
        b5.intoArray(tile, 5 * nr + VL);
        a6.intoArray(tile, 6 * nr);
        b6.intoArray(tile, 6 * nr + VL);
        a7.intoArray(tile, 7 * nr);
        b7.intoArray(tile, 7 * nr + VL);
        a8.intoArray(tile, 8 * nr);
        b8.intoArray(tile, 8 * nr + VL);
        a9.intoArray(tile, 9 * nr);
        b9.intoArray(tile, 9 * nr + VL);
        a10.intoArray(tile, 10 * nr);
        b10.intoArray(tile, 10 * nr + VL);
        a11.intoArray(tile, 11 * nr);
        b11.intoArray(tile, 11 * nr + VL);
    }

    /**
     * {@link #rows}'s tile for the group's first panel, copying one vector of one row per k step, a chunk of VL
     * steps ahead: at step p, row r = min(p mod VL, 11) of chunk p/VL + 1 (the last chunk again at the end).
     */
    static void streamed(int kc, MemorySegment w, long w0, long ldw, int rows, float[] xp, int xi, float[] tile,
                         float[] pk) {
        int nr = 2 * VL;
        long base = w0 << 2, st = ldw << 2;
        int chunks = kc / VL, last = Math.min(MR - 1, rows - 1);
        for (int r = 0; r < MR; r++) {
            long o = base + Math.min(r, rows - 1) * st;
            int from = chunks > 0 ? 0 : 0, to = chunks > 0 ? VL : kc;
            for (int q = from; q < to; q++) {
                pk[r * STRIDE + q] = w.get(F32, o + ((long) q << 2));
            }
            for (int q = chunks * VL; q < kc; q++) {
                pk[r * STRIDE + q] = w.get(F32, o + ((long) q << 2));
            }
        }
        int lastChunk = Math.max(0, chunks - 1);
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z;
        FloatVector a6 = z, b6 = z, a7 = z, b7 = z, a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        for (int p = 0; p < kc; p++, xi += nr) {
            FloatVector x0 = FloatVector.fromArray(F, xp, xi);
            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);
            FloatVector v;
            v = FloatVector.broadcast(F, pk[p + 0 * STRIDE]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, pk[p + 1 * STRIDE]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, pk[p + 2 * STRIDE]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, pk[p + 3 * STRIDE]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, pk[p + 4 * STRIDE]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, pk[p + 5 * STRIDE]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, pk[p + 6 * STRIDE]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, pk[p + 7 * STRIDE]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, pk[p + 8 * STRIDE]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, pk[p + 9 * STRIDE]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, pk[p + 10 * STRIDE]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, pk[p + 11 * STRIDE]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
            if ((p & (CH - 1)) == 0 && p + CH < chunks * VL) {
                copyChunk(w, base, st, rows, p + CH, pk);
            }
        }
        a0.intoArray(tile, 0 * nr);
        b0.intoArray(tile, 0 * nr + VL);
        a1.intoArray(tile, 1 * nr);
        b1.intoArray(tile, 1 * nr + VL);
        a2.intoArray(tile, 2 * nr);
        b2.intoArray(tile, 2 * nr + VL);
        a3.intoArray(tile, 3 * nr);
        b3.intoArray(tile, 3 * nr + VL);
        a4.intoArray(tile, 4 * nr);
        b4.intoArray(tile, 4 * nr + VL);
        a5.intoArray(tile, 5 * nr);
        b5.intoArray(tile, 5 * nr + VL);
        a6.intoArray(tile, 6 * nr);
        b6.intoArray(tile, 6 * nr + VL);
        a7.intoArray(tile, 7 * nr);
        b7.intoArray(tile, 7 * nr + VL);
        a8.intoArray(tile, 8 * nr);
        b8.intoArray(tile, 8 * nr + VL);
        a9.intoArray(tile, 9 * nr);
        b9.intoArray(tile, 9 * nr + VL);
        a10.intoArray(tile, 10 * nr);
        b10.intoArray(tile, 10 * nr + VL);
        a11.intoArray(tile, 11 * nr);
        b11.intoArray(tile, 11 * nr + VL);
    }
}
