package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmWeightStream.MR;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * F32 weight rows packed for {@link GemmDirectKernel}'s wide blocks: 12 rows × kc as quads [kc/4][12][4], so that
 * the micro-kernel broadcasts every weight from one pointer at constant offsets, and the same 12 × 2-vector register
 * tile as {@link GemmDirectKernel#micro2}: tile[r*NR + t] = Σ_{p &lt; kc} W[min(r, rows − 1), p]·xp[xi + p*NR + t],
 * each sum over p in order with one fused multiply-add per step, so results are bit-identical to micro2's.
 *
 * <p>Why: micro2 reads 12 rows in place, so its loop holds 12 row pointers besides the panel's; x86-64 has about 13
 * free general registers, and C2 spilled the pointers and reloaded them from the stack (6 extra loads and ~20 moves
 * per k step next to the 24 FMAs; seen in the disassembly of the compiled loop). The loop then issues ~60 instructions
 * per 24 FMAs and runs at ~75% of the FMA rate. Packed, the loop below is 14 loads, 24 FMAs and the loop counter per
 * k step. Quads [4][...] rather than [kc][12]: a 12-row group packs with one 128-bit load and store per 4 weights
 * (a [kc][12] copy is a transpose, 12 scalar stores per k step, as dear as a panel's FMAs). Packing is paid once per
 * group and k block, so it serves blocks with several token panels ({@link #MIN_PANELS}).
 */
final class GemmWeightQuads {
    /** Fewest two-vector token panels in a block for which its weight groups are packed; tunable for measurement. */
    static final int MIN_PANELS = Integer.getInteger("dev.interlayer.gemm.ws.quadpanels", 4);

    private static final VectorSpecies<Float> Q = FloatVector.SPECIES_128;

    private GemmWeightQuads() {
    }

    /** Length of a packed group of kc steps: 12 rows × kc rounded up to whole quads. */
    static int length(int kc) {
        return MR * ((kc + 3) & ~3);
    }

    /**
     * wq[(p/4)*48 + r*4 + p%4] = W[min(r, rows − 1), p] for r &lt; 12, p &lt; kc; W row r at element
     * {@code w0 + r*ldw} of the F32 segment w. The slots of a last partial quad past kc are left as they are.
     */
    static void pack(int kc, MemorySegment w, long w0, long ldw, int rows, float[] wq) {
        int kq = kc & ~3;
        for (int r = 0; r < MR; r++) {
            long row = w0 + Math.min(r, rows - 1) * ldw;
            int p = 0, dst = r * 4;
            for (; p < kq; p += 4, dst += 4 * MR) {
                FloatVector.fromMemorySegment(Q, w, (row + p) << 2, ByteOrder.LITTLE_ENDIAN).intoArray(wq, dst);
            }
            for (int s = 0; p < kc; p++, s++) {
                wq[dst + s] = w.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, row + p);
            }
        }
    }

    /**
     * tile[r*NR + t] = Σ_{p &lt; kc} wq[(p/4)*48 + r*4 + p%4]·xp[xi + p*NR + t] for r &lt; 12, t &lt; NR (wq from
     * {@link #pack}). Four k steps per iteration, written out: the quad's offsets are then constants.
     */
    static void micro(int kc, float[] wq, float[] xp, int xi, float[] tile) {
        int nr = 2 * VL;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z;
        FloatVector a6 = z, b6 = z, a7 = z, b7 = z, a8 = z, b8 = z, a9 = z, b9 = z, a10 = z, b10 = z, a11 = z, b11 = z;
        int kq = kc & ~3, wi = 0;
        for (int p = 0; p < kq; p += 4, xi += 4 * nr, wi += 4 * MR) {
            FloatVector x0, x1, v;
            x0 = FloatVector.fromArray(F, xp, xi);
            x1 = FloatVector.fromArray(F, xp, xi + VL);
            v = FloatVector.broadcast(F, wq[wi]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, wq[wi + 4]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, wq[wi + 8]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, wq[wi + 12]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, wq[wi + 16]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, wq[wi + 20]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, wq[wi + 24]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, wq[wi + 28]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, wq[wi + 32]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, wq[wi + 36]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, wq[wi + 40]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, wq[wi + 44]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
            x0 = FloatVector.fromArray(F, xp, xi + 1 * nr);
            x1 = FloatVector.fromArray(F, xp, xi + 1 * nr + VL);
            v = FloatVector.broadcast(F, wq[wi + 1]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, wq[wi + 5]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, wq[wi + 9]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, wq[wi + 13]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, wq[wi + 17]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, wq[wi + 21]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, wq[wi + 25]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, wq[wi + 29]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, wq[wi + 33]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, wq[wi + 37]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, wq[wi + 41]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, wq[wi + 45]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
            x0 = FloatVector.fromArray(F, xp, xi + 2 * nr);
            x1 = FloatVector.fromArray(F, xp, xi + 2 * nr + VL);
            v = FloatVector.broadcast(F, wq[wi + 2]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, wq[wi + 6]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, wq[wi + 10]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, wq[wi + 14]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, wq[wi + 18]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, wq[wi + 22]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, wq[wi + 26]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, wq[wi + 30]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, wq[wi + 34]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, wq[wi + 38]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, wq[wi + 42]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, wq[wi + 46]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
            x0 = FloatVector.fromArray(F, xp, xi + 3 * nr);
            x1 = FloatVector.fromArray(F, xp, xi + 3 * nr + VL);
            v = FloatVector.broadcast(F, wq[wi + 3]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, wq[wi + 7]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, wq[wi + 11]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, wq[wi + 15]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, wq[wi + 19]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, wq[wi + 23]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, wq[wi + 27]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, wq[wi + 31]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, wq[wi + 35]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, wq[wi + 39]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, wq[wi + 43]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, wq[wi + 47]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
        }
        // the last kc mod 4 steps: the partial quad, with the step as a variable offset
        for (int p = kq, s = wi; p < kc; p++, s++, xi += nr) {
            FloatVector x0 = FloatVector.fromArray(F, xp, xi);
            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);
            FloatVector v;
            v = FloatVector.broadcast(F, wq[s]);
            a0 = v.fma(x0, a0);
            b0 = v.fma(x1, b0);
            v = FloatVector.broadcast(F, wq[s + 4]);
            a1 = v.fma(x0, a1);
            b1 = v.fma(x1, b1);
            v = FloatVector.broadcast(F, wq[s + 8]);
            a2 = v.fma(x0, a2);
            b2 = v.fma(x1, b2);
            v = FloatVector.broadcast(F, wq[s + 12]);
            a3 = v.fma(x0, a3);
            b3 = v.fma(x1, b3);
            v = FloatVector.broadcast(F, wq[s + 16]);
            a4 = v.fma(x0, a4);
            b4 = v.fma(x1, b4);
            v = FloatVector.broadcast(F, wq[s + 20]);
            a5 = v.fma(x0, a5);
            b5 = v.fma(x1, b5);
            v = FloatVector.broadcast(F, wq[s + 24]);
            a6 = v.fma(x0, a6);
            b6 = v.fma(x1, b6);
            v = FloatVector.broadcast(F, wq[s + 28]);
            a7 = v.fma(x0, a7);
            b7 = v.fma(x1, b7);
            v = FloatVector.broadcast(F, wq[s + 32]);
            a8 = v.fma(x0, a8);
            b8 = v.fma(x1, b8);
            v = FloatVector.broadcast(F, wq[s + 36]);
            a9 = v.fma(x0, a9);
            b9 = v.fma(x1, b9);
            v = FloatVector.broadcast(F, wq[s + 40]);
            a10 = v.fma(x0, a10);
            b10 = v.fma(x1, b10);
            v = FloatVector.broadcast(F, wq[s + 44]);
            a11 = v.fma(x0, a11);
            b11 = v.fma(x1, b11);
        }
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
