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
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode-time (m = 1) dot products of Q4_K weight rows read in place with F32 activations, in the two tile
 * shapes of {@link Block32Tiles}. Each output is the {@link TileDriver} sequence over the row dequantized
 * exactly as {@link QuantDecode} does ({@code fma(q, d·sc_j, −dmin·m_j)}): per
 * super-block (256 values, 144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of
 * nibbles) and chunk c of 32 bytes, the low nibbles (sub-block 2c) then the high ones (2c + 1), 16 bytes
 * at a time widened unsigned to int lanes, each vector folded into a single accumulator by one FMA.
 *
 * <p>The scale and min products of each row are decoded into scratch by {@link #scales}, which the
 * caller runs before the vector loop: inlined here they pushed this method past C2's node budget (its
 * later vector calls were left out of line), and decoding inside the loop cost a call per super-block
 * with every accumulator live across it.
 */
final class Q4KTiles {
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Long> L2 = LongVector.SPECIES_128;   // two lanes: C2 has no one-lane vectors
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q4KTiles() {
    }

    /**
     * For the row at byte o with k/32 = nj sub-blocks: {@code s[so + j] = d·sc_j} and {@code s[so + nj + j] =
     * −dmin·m_j}. The 12 scale bytes are read as a long and an int and taken apart four at a time; the eight
     * scales (and mins) become floats as one 8-lane vector (byte-by-byte segment reads and scalar
     * conversions, on the same pipes as the vector work, had made the kernel 2-4x slower).
     */
    static void scales(MemorySegment seg, long o, int k, float[] s, int so) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int nj = k / 32;
        for (int sb = 0; sb < nj / 8; sb++, o += 144, so += 8) {
            long lo = w.get(I64, o + 4);
            int hi = w.get(I32, o + 12);
            float d = Float.float16ToFloat(w.get(I16, o)), dmin = Float.float16ToFloat(w.get(I16, o + 2));
            int b03 = (int) lo, b47 = (int) (lo >>> 32);
            long sc = (b03 & 0x3F3F3F3FL) | (long) ((hi & 0x0F0F0F0F) | ((b03 >>> 2) & 0x30303030)) << 32;
            long mn = (b47 & 0x3F3F3F3FL) | (long) (((hi >>> 4) & 0x0F0F0F0F) | ((b47 >>> 2) & 0x30303030)) << 32;
            ((FloatVector) LongVector.broadcast(L2, sc).reinterpretAsBytes().convertShape(VectorOperators.B2F, F8, 0))
                    .mul(d).intoArray(s, so);
            ((FloatVector) LongVector.broadcast(L2, mn).reinterpretAsBytes().convertShape(VectorOperators.B2F, F8, 0))
                    .mul(-dmin).intoArray(s, so + nj);
        }
    }

    /**
     * Rows o0 + r·step (r &lt; 4), their scales decoded by {@link #scales} at {@code s[4·VL + 2r·k/32 ..]}, with
     * x; outputs c[ci + r·cs].
     */
    static void far4(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s, float[] c, int ci,
                     int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        long o1 = o0 + step, o2 = o1 + step, o3 = o2 + step;
        int nj = k / 32, sc = 4 * VL, rs = 2 * nj;
        FloatVector z = FloatVector.zero(F), a0 = z, a1 = z, a2 = z, a3 = z;
        // one loop over the sub-blocks jb (32 values: chunk (jb mod 8)/2 of super-block jb/8, low nibbles when
        // jb is even), so that C2 unrolls the two 16-byte groups and the parts completely
        for (int jb = 0; jb < nj; jb++, xo += 32) {
            int j = sc + jb, shift = 4 * (jb & 1);
            long qo = 144L * (jb >> 3) + 16 + 32 * ((jb & 7) >> 1);
            FloatVector d0 = FloatVector.broadcast(F, s[j]), m0 = FloatVector.broadcast(F, s[j + nj]);
            FloatVector d1 = FloatVector.broadcast(F, s[j + rs]), m1 = FloatVector.broadcast(F, s[j + rs + nj]);
            FloatVector d2 = FloatVector.broadcast(F, s[j + 2 * rs]);
            FloatVector m2 = FloatVector.broadcast(F, s[j + 2 * rs + nj]);
            FloatVector d3 = FloatVector.broadcast(F, s[j + 3 * rs]);
            FloatVector m3 = FloatVector.broadcast(F, s[j + 3 * rs + nj]);
            for (int g = 0; g < 2; g++) {
                long q = qo + 16 * g;
                ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + q, LE);
                ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + q, LE);
                ByteVector v2 = ByteVector.fromMemorySegment(B, w, o2 + q, LE);
                ByteVector v3 = ByteVector.fromMemorySegment(B, w, o3 + q, LE);
                for (int p = 0; p < PARTS; p++) {
                    FloatVector xv = FloatVector.fromArray(F, x, xo + 16 * g + p * VL);
                    a0 = ((FloatVector) ((IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p))
                            .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d0, m0).fma(xv, a0);
                    a1 = ((FloatVector) ((IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p))
                            .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d1, m1).fma(xv, a1);
                    a2 = ((FloatVector) ((IntVector) v2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p))
                            .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d2, m2).fma(xv, a2);
                    a3 = ((FloatVector) ((IntVector) v3.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p))
                            .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d3, m3).fma(xv, a3);
                }
            }
        }
        a0.intoArray(s, 0);
        a1.intoArray(s, VL);
        a2.intoArray(s, 2 * VL);
        a3.intoArray(s, 3 * VL);
        for (int r = 0; r < 4; r++) {
            c[ci + r * cs] = hsum(s, r * VL);
        }
    }

    /** One row at byte o (scales at {@code s[4·VL ..]}) with x. */
    static float one(MemorySegment seg, long o, int k, float[] x, int xo, float[] s) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int nj = k / 32, sc = 4 * VL;
        FloatVector acc = FloatVector.zero(F);
        for (int jb = 0; jb < nj; jb++, xo += 32) {                    // sub-blocks, as in far4
            FloatVector d = FloatVector.broadcast(F, s[sc + jb]), m = FloatVector.broadcast(F, s[sc + jb + nj]);
            long qo = o + 144L * (jb >> 3) + 16 + 32 * ((jb & 7) >> 1);
            int shift = 4 * (jb & 1);
            for (int g = 0; g < 2; g++) {
                ByteVector v = ByteVector.fromMemorySegment(B, w, qo + 16 * g, LE);
                for (int p = 0; p < PARTS; p++) {
                    acc = ((FloatVector) ((IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p))
                            .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d, m).fma(FloatVector.fromArray(F, x, xo + 16 * g + p * VL), acc);
                }
            }
        }
        acc.intoArray(s, 0);
        return hsum(s, 0);
    }
}
