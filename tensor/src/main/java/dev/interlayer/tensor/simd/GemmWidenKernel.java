package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmSpecies.load;
import static dev.interlayer.tensor.simd.GemmSpecies.loadMasked;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * {@link GemmWeightStream}'s micro-kernel with the next weight-row group's widening folded into its k loop:
 * the same tile[r*NR + t] = Σ_p wb[r*kc + p]·xp[xi + p*NR + t] (12 weight rows × NR tokens, summed in p order,
 * so bit for bit the plain kernel's result), and per k step one vector of the next group's weight rows copied
 * (widened to F32) into {@code next}.
 *
 * <p>Why: widening a group of 12 rows apart, between panels, took about as long as one 32-token panel of FMAs
 * when the weights came from DRAM, and a mixture-of-experts layer gives each expert about 32 rows (one panel),
 * so every group paid the whole copy. Issued between the FMAs the copy's loads overlap with them. Measured in
 * one JVM, old and new alternating (1 thread, thread CPU time, 64 different 1024×2048 weights, m = 32, load
 * average 8–9): F32 68 → 96 GFLOP/s, BF16 79 → 91; with the weights in L1 (one row repeated) F32 98 → 99, BF16
 * 107 → 101; m = 256 over 8192×2048 and 2048×8192 F32 +2% and +6%, BF16 ±0.
 *
 * <p>The FMA block repeats {@code GemmWeightStream.micro}'s on purpose: one method serving both (the copy skipped
 * when there is no next group) ran 6–15% slower on every shape (same-JVM A/B), C2 compiling one loop for both.
 */
final class GemmWidenKernel {
    private GemmWidenKernel() {
    }

    /**
     * tile as {@code GemmWeightStream.micro}, and next[r*kc + p] = W[r, p] as F32 for r &lt; nextRows, p &lt; kc
     * (W row r at element {@code w0 + r*ldw} of {@code w} in storage {@code kind}); rows of next from
     * nextRows to 12 are zero.
     */
    static void micro(int kc, float[] wb, float[] xp, int xi, float[] tile, float[] next, int nextRows, int kind,
                      MemorySegment w, long w0, long ldw) {
        int nr = 2 * VL;
        for (int r = nextRows; r < GemmWeightStream.MR; r++) {
            Arrays.fill(next, r * kc, (r + 1) * kc, 0f);
        }
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z;
        FloatVector a6 = z, b6 = z, a7 = z, b7 = z, a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        int r1 = kc, r2 = 2 * kc, r3 = 3 * kc, r4 = 4 * kc, r5 = 5 * kc, r6 = 6 * kc, r7 = 7 * kc, r8 = 8 * kc;
        int r9 = 9 * kc, r10 = 10 * kc, r11 = 11 * kc;
        // The copy: one vector per k step, the rows in turn (rows 0..11 of columns [0, VL), then of [VL, 2VL), …;
        // with 512-bit vectors 12·⌊kc/16⌋ < kc copies, so they end inside the loop), each row's last kc mod VL
        // columns after it.
        // Row after row instead ran no faster than widening apart: one sequential stream, paced by the FMAs, kept
        // few cache misses in flight; twelve streams a vector apart let the prefetchers fetch ahead on each.
        int perRow = kc / VL;
        int row = 0, col = 0;
        for (int p = 0; p < kc; p++, xi += nr) {
            FloatVector x0 = FloatVector.fromArray(F, xp, xi);
            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);
            FloatVector v = FloatVector.broadcast(F, wb[p]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, wb[r1 + p]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, wb[r2 + p]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, wb[r3 + p]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, wb[r4 + p]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, wb[r5 + p]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, wb[r6 + p]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, wb[r7 + p]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, wb[r8 + p]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, wb[r9 + p]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, wb[r10 + p]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, wb[r11 + p]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
            if (col < perRow) {
                load(kind, w, w0 + row * ldw + col * VL).intoArray(next, row * kc + col * VL);
                if (++row == nextRows) {
                    row = 0;
                    col++;
                }
            }
        }
        while (col < perRow) {  // narrower vectors: more copies than k steps
            load(kind, w, w0 + row * ldw + col * VL).intoArray(next, row * kc + col * VL);
            if (++row == nextRows) {
                row = 0;
                col++;
            }
        }
        int rest = kc - perRow * VL;
        if (rest > 0) {
            VectorMask<Float> m = F.indexInRange(0, rest);
            for (int r = 0; r < nextRows; r++) {   // masked store: the next row's first columns are already there
                loadMasked(kind, w, w0 + r * ldw + perRow * VL, m).intoArray(next, r * kc + perRow * VL, m);
            }
        }
        // Written out, not through a helper taking vectors: a vector passed to a call C2 does not inline is boxed.
        a0.intoArray(tile, 0);
        b0.intoArray(tile, VL);
        a1.intoArray(tile, nr);
        b1.intoArray(tile, nr + VL);
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
