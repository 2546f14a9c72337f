package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.I;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.NATIVE;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.f16;
import static dev.interlayer.tensor.quant.vector.QSpecies.hsum;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Decode-time (m = 1) dot products of Q8_0 and Q4_0 weight rows read in place with F32 activations:
 * {@code far4} takes four rows {@code step} bytes apart (four read streams, each activation load shared
 * by four rows), Q8_0's {@code far8} eight, {@code one} a single row. Each output is the {@link TileDriver}
 * sequence: the row dequantized exactly as {@link QuantDecode} does (single-precision {@code d·q}; Q4_0's
 * {@code d·(q − 8)} as {@code fma(q, d, −8d)}, the same float because {@code −8d} is exact), one vector of VL
 * values at a time in element order, each folded in by one FMA into a single accumulator, then
 * {@link QSpecies#hsum}.
 *
 * <p>Vector API calls are written out in each loop, not put in helpers: a helper taking or returning
 * vectors that C2 leaves out of line boxes every vector it passes (see {@code QuantDecode}).
 */
final class Block32Tiles {
    private Block32Tiles() {
    }

    // ---------------- Q8_0: 34-byte blocks, f16 d then 32 signed bytes ----------------

    /**
     * Eight rows {@code step} bytes apart (eight read streams, each activation load shared by eight rows): Q8_0
     * has so few operations per weight byte that the number of lines in flight sets its speed (TileDriver).
     */
    static void q8_0Far8(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] red, float[] c,
                         int ci, int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        long o1 = o0 + step, o2 = o1 + step, o3 = o2 + step, o4 = o3 + step, o5 = o4 + step, o6 = o5 + step;
        long o7 = o6 + step;
        FloatVector z = FloatVector.zero(F), a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        for (int b = 0, nb = k / 32; b < nb; b++, xo += 32) {
            long bo = 34L * b;
            FloatVector d0 = FloatVector.broadcast(F, f16(w, o0 + bo)), d1 = FloatVector.broadcast(F, f16(w, o1 + bo));
            FloatVector d2 = FloatVector.broadcast(F, f16(w, o2 + bo)), d3 = FloatVector.broadcast(F, f16(w, o3 + bo));
            FloatVector d4 = FloatVector.broadcast(F, f16(w, o4 + bo)), d5 = FloatVector.broadcast(F, f16(w, o5 + bo));
            FloatVector d6 = FloatVector.broadcast(F, f16(w, o6 + bo)), d7 = FloatVector.broadcast(F, f16(w, o7 + bo));
            for (int half = 0; half < 2; half++) {
                long q = bo + 2 + 16 * half;
                ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + q, LE);
                ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + q, LE);
                ByteVector v2 = ByteVector.fromMemorySegment(B, w, o2 + q, LE);
                ByteVector v3 = ByteVector.fromMemorySegment(B, w, o3 + q, LE);
                ByteVector v4 = ByteVector.fromMemorySegment(B, w, o4 + q, LE);
                ByteVector v5 = ByteVector.fromMemorySegment(B, w, o5 + q, LE);
                ByteVector v6 = ByteVector.fromMemorySegment(B, w, o6 + q, LE);
                ByteVector v7 = ByteVector.fromMemorySegment(B, w, o7 + q, LE);
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    FloatVector xv = FloatVector.fromArray(F, x, xo + 16 * half + p * VL);
                    a0 = ((FloatVector) v0.convertShape(VectorOperators.B2F, F, part)).mul(d0).fma(xv, a0);
                    a1 = ((FloatVector) v1.convertShape(VectorOperators.B2F, F, part)).mul(d1).fma(xv, a1);
                    a2 = ((FloatVector) v2.convertShape(VectorOperators.B2F, F, part)).mul(d2).fma(xv, a2);
                    a3 = ((FloatVector) v3.convertShape(VectorOperators.B2F, F, part)).mul(d3).fma(xv, a3);
                    a4 = ((FloatVector) v4.convertShape(VectorOperators.B2F, F, part)).mul(d4).fma(xv, a4);
                    a5 = ((FloatVector) v5.convertShape(VectorOperators.B2F, F, part)).mul(d5).fma(xv, a5);
                    a6 = ((FloatVector) v6.convertShape(VectorOperators.B2F, F, part)).mul(d6).fma(xv, a6);
                    a7 = ((FloatVector) v7.convertShape(VectorOperators.B2F, F, part)).mul(d7).fma(xv, a7);
                }
            }
        }
        a0.intoArray(red, 0);
        a1.intoArray(red, VL);
        a2.intoArray(red, 2 * VL);
        a3.intoArray(red, 3 * VL);
        a4.intoArray(red, 4 * VL);
        a5.intoArray(red, 5 * VL);
        a6.intoArray(red, 6 * VL);
        a7.intoArray(red, 7 * VL);
        for (int r = 0; r < 8; r++) {
            c[ci + r * cs] = hsum(red, r * VL);
        }
    }

    static float q8_0One(MemorySegment seg, long o, int k, float[] x, int xo, float[] red) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, nb = k / 32; b < nb; b++, o += 34, xo += 32) {
            FloatVector d = FloatVector.broadcast(F, f16(w, o));
            for (int half = 0; half < 2; half++) {
                ByteVector v = ByteVector.fromMemorySegment(B, w, o + 2 + 16 * half, LE);
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    acc = ((FloatVector) v.convertShape(VectorOperators.B2F, F, part)).mul(d)
                            .fma(FloatVector.fromArray(F, x, xo + 16 * half + p * VL), acc);
                }
            }
        }
        acc.intoArray(red, 0);
        return hsum(red, 0);
    }

    // ---------------- Q4_0: 18-byte blocks, f16 d then 16 bytes: element i low nibble, 16 + i high ----------------
    // Bytes are widened unsigned to int lanes once and both nibbles taken from them (& 15, >>> 4).

    static void q4_0Far4(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] red, float[] c,
                         int ci, int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        long o1 = o0 + step, o2 = o1 + step, o3 = o2 + step;
        FloatVector z = FloatVector.zero(F), a0 = z, a1 = z, a2 = z, a3 = z;
        for (int b = 0, nb = k / 32; b < nb; b++, xo += 32) {
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
                    FloatVector xv = FloatVector.fromArray(F, x, xo + 16 * half + p * VL);
                    IntVector u0 = (IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    IntVector u1 = (IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    IntVector u2 = (IntVector) v2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    IntVector u3 = (IntVector) v3.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    a0 = ((FloatVector) u0.lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d0, n0).fma(xv, a0);
                    a1 = ((FloatVector) u1.lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d1, n1).fma(xv, a1);
                    a2 = ((FloatVector) u2.lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d2, n2).fma(xv, a2);
                    a3 = ((FloatVector) u3.lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d3, n3).fma(xv, a3);
                }
            }
        }
        a0.intoArray(red, 0);
        a1.intoArray(red, VL);
        a2.intoArray(red, 2 * VL);
        a3.intoArray(red, 3 * VL);
        for (int r = 0; r < 4; r++) {
            c[ci + r * cs] = hsum(red, r * VL);
        }
    }

    static float q4_0One(MemorySegment seg, long o, int k, float[] x, int xo, float[] red) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, nb = k / 32; b < nb; b++, o += 18, xo += 32) {
            float e = f16(w, o);
            FloatVector d = FloatVector.broadcast(F, e), n = FloatVector.broadcast(F, -8 * e);
            ByteVector v = ByteVector.fromMemorySegment(B, w, o + 2, LE);
            for (int half = 0; half < 2; half++) {
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    IntVector u = (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    acc = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4 * half).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d, n).fma(FloatVector.fromArray(F, x, xo + 16 * half + p * VL), acc);
                }
            }
        }
        acc.intoArray(red, 0);
        return hsum(red, 0);
    }
}
