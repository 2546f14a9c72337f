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
 * <p>The scale and min products of each super-block are decoded into scratch by {@link #scales} when the
 * loop reaches it, for the four rows. A pass over each whole row before the vector loop (as before) read
 * every row twice from memory, the first time with one load per 144 bytes and nothing to overlap it: half
 * of the kernel's time (probe, 2048x8192, one thread: 6.4 -&gt; 8.9 GB/s moving it into the loop). The four
 * rows' scales are one call ({@code scales4}): four calls written in the loop were inlined or not depending
 * on what the JVM had compiled before (C2's NodeCountInliningCutoff), and the kernel ran 5 or 9 GB/s
 * from one JVM to the next.
 */
final class Q4KTiles {
    private static final VectorSpecies<Long> L2 = LongVector.SPECIES_128;   // two lanes: C2 has no one-lane vectors
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q4KTiles() {
    }

    /**
     * For the row at byte o, per super-block sb: {@code s[so + 16·sb + j] = d·sc_j} and
     * {@code s[so + 16·sb + 8 + j] = −dmin·m_j} (j &lt; 8). The 12 scale bytes are read as a long and an int and
     * taken apart four at a time into the eight 6-bit scales (a long) and mins (another); the two longs become
     * one 16-byte vector and 16 floats with the float species of the kernels. (Byte-by-byte segment reads and
     * scalar conversions had made the kernel 2-4x slower; a separate 8-lane 256-bit float species for the
     * conversion, next to the 512-bit kernels, cost as much as the whole vector loop: Q4_K decode 6.5 -&gt; 13
     * GB/s without it.)
     */
    static void scales(MemorySegment seg, long o, int k, float[] s, int so) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        for (int sb = 0, n = k / 256; sb < n; sb++, o += 144, so += 16) {
            long lo = w.get(I64, o + 4);
            int hi = w.get(I32, o + 12);
            float d = Float.float16ToFloat(w.get(I16, o)), dmin = Float.float16ToFloat(w.get(I16, o + 2));
            int b03 = (int) lo, b47 = (int) (lo >>> 32);
            long sc = (b03 & 0x3F3F3F3FL) | (long) ((hi & 0x0F0F0F0F) | ((b03 >>> 2) & 0x30303030)) << 32;
            long mn = (b47 & 0x3F3F3F3FL) | (long) (((hi >>> 4) & 0x0F0F0F0F) | ((b47 >>> 2) & 0x30303030)) << 32;
            ByteVector b = LongVector.broadcast(L2, sc).withLane(1, mn).reinterpretAsBytes();
            FloatVector dv = FloatVector.broadcast(F, d), mv = FloatVector.broadcast(F, -dmin);
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                // lanes p·VL + i < 8 are scales (times d), the rest mins (times −dmin)
                ((FloatVector) b.convertShape(VectorOperators.B2F, F, part)).mul(mv.blend(dv, F.indexInRange(p * VL, 8)))
                        .intoArray(s, so + p * VL);
            }
        }
    }

    /** {@link #scales} of one super-block of the four rows o0 + r·step, to {@code s[so + r·rs ..]}. */
    private static void scales4(MemorySegment w, long o0, long step, float[] s, int so, int rs) {
        for (int r = 0; r < 4; r++) {
            scales(w, o0 + r * step, 256, s, so + r * rs);
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
        // one loop over the 32-byte chunks (sub-blocks jb = 2·ch, 2·ch + 1: chunk ch mod 4 of super-block ch/4): each
        // 16-byte group is loaded once for both of its nibbles, and the shifts are constants
        for (int ch = 0, nc = nj / 2; ch < nc; ch++) {
            long qo = 144L * (ch >> 2) + 16 + 32 * (ch & 3);
            if ((ch & 3) == 0) {
                // this super-block's scales of the four rows, decoded where its bytes are read (a separate pass over
                // each row first read the row twice, the first time one load per 144 bytes: half of the time)
                scales4(w, o0 + qo - 16, step, s, sc + 16 * (ch >> 2), rs);
            }
            ByteVector v00 = ByteVector.fromMemorySegment(B, w, o0 + qo, LE);
            ByteVector v01 = ByteVector.fromMemorySegment(B, w, o0 + qo + 16, LE);
            ByteVector v10 = ByteVector.fromMemorySegment(B, w, o1 + qo, LE);
            ByteVector v11 = ByteVector.fromMemorySegment(B, w, o1 + qo + 16, LE);
            ByteVector v20 = ByteVector.fromMemorySegment(B, w, o2 + qo, LE);
            ByteVector v21 = ByteVector.fromMemorySegment(B, w, o2 + qo + 16, LE);
            ByteVector v30 = ByteVector.fromMemorySegment(B, w, o3 + qo, LE);
            ByteVector v31 = ByteVector.fromMemorySegment(B, w, o3 + qo + 16, LE);
            for (int half = 0; half < 2; half++, xo += 32) {
                int j = sc + 16 * (ch >> 2) + 2 * (ch & 3) + half, shift = 4 * half;
                FloatVector d0 = FloatVector.broadcast(F, s[j]), m0 = FloatVector.broadcast(F, s[j + 8]);
                FloatVector d1 = FloatVector.broadcast(F, s[j + rs]), m1 = FloatVector.broadcast(F, s[j + rs + 8]);
                FloatVector d2 = FloatVector.broadcast(F, s[j + 2 * rs]);
                FloatVector m2 = FloatVector.broadcast(F, s[j + 2 * rs + 8]);
                FloatVector d3 = FloatVector.broadcast(F, s[j + 3 * rs]);
                FloatVector m3 = FloatVector.broadcast(F, s[j + 3 * rs + 8]);
                for (int g = 0; g < 2; g++) {
                    ByteVector v0 = g == 0 ? v00 : v01, v1 = g == 0 ? v10 : v11;
                    ByteVector v2 = g == 0 ? v20 : v21, v3 = g == 0 ? v30 : v31;
                    for (int p = 0; p < PARTS; p++) {
                        int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                        FloatVector xv = FloatVector.fromArray(F, x, xo + 16 * g + p * VL);
                        a0 = ((FloatVector) ((IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                                .fma(d0, m0).fma(xv, a0);
                        a1 = ((FloatVector) ((IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                                .fma(d1, m1).fma(xv, a1);
                        a2 = ((FloatVector) ((IntVector) v2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                                .fma(d2, m2).fma(xv, a2);
                        a3 = ((FloatVector) ((IntVector) v3.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                                .fma(d3, m3).fma(xv, a3);
                    }
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
            if ((jb & 7) == 0) {
                scales(w, o + 144L * (jb >> 3), 256, s, sc + 16 * (jb >> 3));
            }
            int j = sc + 16 * (jb >> 3) + (jb & 7);
            FloatVector d = FloatVector.broadcast(F, s[j]), m = FloatVector.broadcast(F, s[j + 8]);
            long qo = o + 144L * (jb >> 3) + 16 + 32 * ((jb & 7) >> 1);
            int shift = 4 * (jb & 1);
            for (int g = 0; g < 2; g++) {
                ByteVector v = ByteVector.fromMemorySegment(B, w, qo + 16 * g, LE);
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    acc = ((FloatVector) ((IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                            .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d, m).fma(FloatVector.fromArray(F, x, xo + 16 * g + p * VL), acc);
                }
            }
        }
        acc.intoArray(s, 0);
        return hsum(s, 0);
    }
}
