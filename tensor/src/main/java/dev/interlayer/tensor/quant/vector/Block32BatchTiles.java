package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.I;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.NATIVE;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.f16;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Batched-decode (1 &lt; m ≤ 16) tiles of Q8_0 and Q4_0 weights read in place: two weight rows (bytes o0, o1)
 * times four activation rows (x offsets x0..x3), or four weight rows times two activation rows for the last one
 * or two; eight accumulators either way. Each weight vector is dequantized once in
 * registers, exactly as {@link Block32Tiles} does it for m = 1, and folded into the four activation rows'
 * accumulators; so every output is the {@link TileDriver} sequence ({@code acc = fma(w, x, acc)} a vector at a
 * time in element order from zero, then {@link QSpecies#hsum}), bit for bit the one-row result. The driver
 * ({@link BatchDriver}) passes a repeated offset for a missing row (an odd weight row, fewer than four
 * activation rows left) and keeps only the outputs that exist.
 *
 * <p>Vector API calls are written out (see {@link Block32Tiles}).
 */
final class Block32BatchTiles {
    private Block32BatchTiles() {
    }

    static void q8_0W2X4(MemorySegment seg, long o0, long o1, int k, float[] x, int x0, int x1, int x2, int x3,
                     float[] s, float[] c, int ci, int ldc, int nr, int mr) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector z = FloatVector.zero(F), a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        for (int b = 0, nb = k / 32; b < nb; b++) {
            long bo = 34L * b;
            FloatVector d0 = FloatVector.broadcast(F, f16(w, o0 + bo)), d1 = FloatVector.broadcast(F, f16(w, o1 + bo));
            for (int half = 0; half < 2; half++) {
                long q = bo + 2 + 16 * half;
                ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + q, LE);
                ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + q, LE);
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    int xp = 32 * b + 16 * half + p * VL;
                    FloatVector w0 = ((FloatVector) v0.convertShape(VectorOperators.B2F, F, part)).mul(d0);
                    FloatVector w1 = ((FloatVector) v1.convertShape(VectorOperators.B2F, F, part)).mul(d1);
                    FloatVector xv = FloatVector.fromArray(F, x, x0 + xp);
                    a00 = w0.fma(xv, a00);
                    a10 = w1.fma(xv, a10);
                    xv = FloatVector.fromArray(F, x, x1 + xp);
                    a01 = w0.fma(xv, a01);
                    a11 = w1.fma(xv, a11);
                    xv = FloatVector.fromArray(F, x, x2 + xp);
                    a02 = w0.fma(xv, a02);
                    a12 = w1.fma(xv, a12);
                    xv = FloatVector.fromArray(F, x, x3 + xp);
                    a03 = w0.fma(xv, a03);
                    a13 = w1.fma(xv, a13);
                }
            }
        }
        a00.intoArray(s, 0);
        a01.intoArray(s, VL);
        a02.intoArray(s, 2 * VL);
        a03.intoArray(s, 3 * VL);
        a10.intoArray(s, 4 * VL);
        a11.intoArray(s, 5 * VL);
        a12.intoArray(s, 6 * VL);
        a13.intoArray(s, 7 * VL);
        BatchDriver.store(s, c, ci, ldc, nr, mr, 4);
    }

    /** Q4_0 codes as {@link Block32Tiles#q4_0Far4}: {@code fma(q, d, −8d)}, the low nibbles then the high. */
    static void q4_0W2X4(MemorySegment seg, long o0, long o1, int k, float[] x, int x0, int x1, int x2, int x3,
                     float[] s, float[] c, int ci, int ldc, int nr, int mr) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector z = FloatVector.zero(F), a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        for (int b = 0, nb = k / 32; b < nb; b++) {
            long bo = 18L * b;
            float e0 = f16(w, o0 + bo), e1 = f16(w, o1 + bo);
            FloatVector d0 = FloatVector.broadcast(F, e0), d1 = FloatVector.broadcast(F, e1);
            FloatVector n0 = FloatVector.broadcast(F, -8 * e0), n1 = FloatVector.broadcast(F, -8 * e1);
            ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + bo + 2, LE);
            ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + bo + 2, LE);
            for (int half = 0; half < 2; half++) {
                int shift = 4 * half;
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    int xp = 32 * b + 16 * half + p * VL;
                    IntVector u0 = (IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    IntVector u1 = (IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    FloatVector w0 = ((FloatVector) u0.lanewise(VectorOperators.LSHR, shift).and(15)
                            .convert(VectorOperators.I2F, 0)).fma(d0, n0);
                    FloatVector w1 = ((FloatVector) u1.lanewise(VectorOperators.LSHR, shift).and(15)
                            .convert(VectorOperators.I2F, 0)).fma(d1, n1);
                    FloatVector xv = FloatVector.fromArray(F, x, x0 + xp);
                    a00 = w0.fma(xv, a00);
                    a10 = w1.fma(xv, a10);
                    xv = FloatVector.fromArray(F, x, x1 + xp);
                    a01 = w0.fma(xv, a01);
                    a11 = w1.fma(xv, a11);
                    xv = FloatVector.fromArray(F, x, x2 + xp);
                    a02 = w0.fma(xv, a02);
                    a12 = w1.fma(xv, a12);
                    xv = FloatVector.fromArray(F, x, x3 + xp);
                    a03 = w0.fma(xv, a03);
                    a13 = w1.fma(xv, a13);
                }
            }
        }
        a00.intoArray(s, 0);
        a01.intoArray(s, VL);
        a02.intoArray(s, 2 * VL);
        a03.intoArray(s, 3 * VL);
        a10.intoArray(s, 4 * VL);
        a11.intoArray(s, 5 * VL);
        a12.intoArray(s, 6 * VL);
        a13.intoArray(s, 7 * VL);
        BatchDriver.store(s, c, ci, ldc, nr, mr, 4);
    }

    /** Four weight rows (bytes o0..o3) times two activation rows: the tile for one or two rows left. */
    static void q8_0W4X2(MemorySegment seg, long o0, long o1, long o2, long o3, int k, float[] x, int x0,
                         int x1, float[] s, float[] c, int ci, int ldc, int nr, int mr) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector z = FloatVector.zero(F), a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        for (int b = 0, nb = k / 32; b < nb; b++) {
            long bo = 34L * b;
            FloatVector d0 = FloatVector.broadcast(F, f16(w, o0 + bo)), d1 = FloatVector.broadcast(F, f16(w, o1 + bo));
            FloatVector d2 = FloatVector.broadcast(F, f16(w, o2 + bo)), d3 = FloatVector.broadcast(F, f16(w, o3 + bo));
            for (int half = 0; half < 2; half++) {
                long q = bo + 2 + 16 * half;
                ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + q, LE);
                ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + q, LE);
                ByteVector v2 = ByteVector.fromMemorySegment(B, w, o2 + q, LE);
                ByteVector v3 = ByteVector.fromMemorySegment(B, w, o3 + q, LE);
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    int xp = 32 * b + 16 * half + p * VL;
                    FloatVector w0 = ((FloatVector) v0.convertShape(VectorOperators.B2F, F, part)).mul(d0);
                    FloatVector w1 = ((FloatVector) v1.convertShape(VectorOperators.B2F, F, part)).mul(d1);
                    FloatVector w2 = ((FloatVector) v2.convertShape(VectorOperators.B2F, F, part)).mul(d2);
                    FloatVector w3 = ((FloatVector) v3.convertShape(VectorOperators.B2F, F, part)).mul(d3);
                    FloatVector xv = FloatVector.fromArray(F, x, x0 + xp);
                    a00 = w0.fma(xv, a00);
                    a10 = w1.fma(xv, a10);
                    a20 = w2.fma(xv, a20);
                    a30 = w3.fma(xv, a30);
                    xv = FloatVector.fromArray(F, x, x1 + xp);
                    a01 = w0.fma(xv, a01);
                    a11 = w1.fma(xv, a11);
                    a21 = w2.fma(xv, a21);
                    a31 = w3.fma(xv, a31);
                }
            }
        }
        a00.intoArray(s, 0);
        a01.intoArray(s, VL);
        a10.intoArray(s, 2 * VL);
        a11.intoArray(s, 3 * VL);
        a20.intoArray(s, 4 * VL);
        a21.intoArray(s, 5 * VL);
        a30.intoArray(s, 6 * VL);
        a31.intoArray(s, 7 * VL);
        BatchDriver.store(s, c, ci, ldc, nr, mr, 2);
    }

    /** As {@link #q8_0W4X2} for Q4_0. */
    static void q4_0W4X2(MemorySegment seg, long o0, long o1, long o2, long o3, int k, float[] x, int x0,
                         int x1, float[] s, float[] c, int ci, int ldc, int nr, int mr) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector z = FloatVector.zero(F), a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        for (int b = 0, nb = k / 32; b < nb; b++) {
            long bo = 18L * b;
            float e0 = f16(w, o0 + bo), e1 = f16(w, o1 + bo), e2 = f16(w, o2 + bo), e3 = f16(w, o3 + bo);
            FloatVector d0 = FloatVector.broadcast(F, e0), d1 = FloatVector.broadcast(F, e1);
            FloatVector d2 = FloatVector.broadcast(F, e2), d3 = FloatVector.broadcast(F, e3);
            FloatVector n0 = FloatVector.broadcast(F, -8 * e0), n1 = FloatVector.broadcast(F, -8 * e1);
            FloatVector n2 = FloatVector.broadcast(F, -8 * e2), n3 = FloatVector.broadcast(F, -8 * e3);
            ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + bo + 2, LE);
            ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + bo + 2, LE);
            ByteVector v2 = ByteVector.fromMemorySegment(B, w, o2 + bo + 2, LE);
            ByteVector v3 = ByteVector.fromMemorySegment(B, w, o3 + bo + 2, LE);
            for (int half = 0; half < 2; half++) {
                int shift = 4 * half;
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    int xp = 32 * b + 16 * half + p * VL;
                    IntVector u0 = (IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    IntVector u1 = (IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    IntVector u2 = (IntVector) v2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    IntVector u3 = (IntVector) v3.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    FloatVector w0 = ((FloatVector) u0.lanewise(VectorOperators.LSHR, shift).and(15)
                            .convert(VectorOperators.I2F, 0)).fma(d0, n0);
                    FloatVector w1 = ((FloatVector) u1.lanewise(VectorOperators.LSHR, shift).and(15)
                            .convert(VectorOperators.I2F, 0)).fma(d1, n1);
                    FloatVector w2 = ((FloatVector) u2.lanewise(VectorOperators.LSHR, shift).and(15)
                            .convert(VectorOperators.I2F, 0)).fma(d2, n2);
                    FloatVector w3 = ((FloatVector) u3.lanewise(VectorOperators.LSHR, shift).and(15)
                            .convert(VectorOperators.I2F, 0)).fma(d3, n3);
                    FloatVector xv = FloatVector.fromArray(F, x, x0 + xp);
                    a00 = w0.fma(xv, a00);
                    a10 = w1.fma(xv, a10);
                    a20 = w2.fma(xv, a20);
                    a30 = w3.fma(xv, a30);
                    xv = FloatVector.fromArray(F, x, x1 + xp);
                    a01 = w0.fma(xv, a01);
                    a11 = w1.fma(xv, a11);
                    a21 = w2.fma(xv, a21);
                    a31 = w3.fma(xv, a31);
                }
            }
        }
        a00.intoArray(s, 0);
        a01.intoArray(s, VL);
        a10.intoArray(s, 2 * VL);
        a11.intoArray(s, 3 * VL);
        a20.intoArray(s, 4 * VL);
        a21.intoArray(s, 5 * VL);
        a30.intoArray(s, 6 * VL);
        a31.intoArray(s, 7 * VL);
        BatchDriver.store(s, c, ci, ldc, nr, mr, 2);
    }
}
