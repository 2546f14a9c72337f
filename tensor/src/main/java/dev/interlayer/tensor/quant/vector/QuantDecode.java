package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.NATIVE;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.f16;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.quant.BlockFormat;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Vectorized dequantization of one row into a float buffer for Q8_0, Q4_0, Q4_K and Q6_K; the other
 * formats use the scalar decoder. Bit-identical to {@link BlockFormat#dequantizeRow} (the same
 * single-precision products) except Q4_K, whose {@code q·(d·sc) − dmin·m} is one FMA here (one rounding
 * instead of two, within the kernels' tolerance): the decode tiles compute it so, one instruction
 * instead of two per vector, and prefill must produce the same floats. The prefill kernel decodes a few weight
 * rows at a time into a per-thread buffer and reuses them for every activation row; the decode tiles
 * ({@link TileDriver}) dequantize in registers to exactly these values. Vector API calls are written out in
 * each loop: a helper taking or returning vectors that C2 leaves out of line ("callee is too large", or
 * compiled on its own first) boxes every vector it passes, about 100 bytes each.
 */
final class QuantDecode {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);

    private QuantDecode() {
    }

    static void row(BlockFormat f, MemorySegment w, long off, int k, float[] out, int o) {
        DType t = f.dtype();
        if (t == DType.Q8_0) {
            q8_0(w, off, k, out, o);
        } else if (t == DType.Q4_0) {
            q4_0(w, off, k, out, o);
        } else if (t == DType.Q4_K) {
            q4K(w, off, k, out, o);
        } else if (t == DType.Q6_K) {
            q6K(w, off, k, out, o);
        } else {
            f.dequantizeRow(w, off, k, out, o);
        }
    }

    private static void q8_0(MemorySegment seg, long off, int k, float[] out, int o) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // off-heap only: see QSpecies.NATIVE
        for (int b = 0; b < k / 32; b++, off += 34, o += 32) {
            float d = f16(w, off);
            ByteVector v0 = ByteVector.fromMemorySegment(B, w, off + 2, LE);
            ByteVector v1 = ByteVector.fromMemorySegment(B, w, off + 18, LE);
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                ((FloatVector) v0.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(out, o + p * VL);
                ((FloatVector) v1.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(out, o + 16 + p * VL);
            }
        }
    }

    private static void q4_0(MemorySegment seg, long off, int k, float[] out, int o) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // off-heap only: see QSpecies.NATIVE
        for (int b = 0; b < k / 32; b++, off += 18, o += 32) {
            float d = f16(w, off);
            ByteVector v = ByteVector.fromMemorySegment(B, w, off + 2, LE);
            ByteVector lo = v.and((byte) 15).sub((byte) 8);
            ByteVector hi = v.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).sub((byte) 8);
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                ((FloatVector) lo.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(out, o + p * VL);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(out, o + 16 + p * VL);
            }
        }
    }

    /**
     * Q4_K rows: per super-block the two f16 scales are read as one int and the twelve 6-bit scale/min bytes as
     * one long and one int and unpacked with shifts (scale j: the low 6 bits of byte j for j &lt; 4, else the low
     * nibble of byte j + 4 and the top two bits of byte j − 4; min j: bytes j + 4 and j, the high nibble). Reading
     * one to three bytes per sub-block through the segment's checks instead cost a quarter of the decoding: 3.3-3.6
     * GB/s of Q4_K rows hot in L2 against 4.6-5.2 this way (one thread).
     */
    private static void q4K(MemorySegment seg, long off, int k, float[] out, int o) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // off-heap only: see QSpecies.NATIVE
        for (int sb = 0; sb < k / 256; sb++, off += 144, o += 256) {
            int dd = w.get(I32, off);
            float d = Float.float16ToFloat((short) dd), dmin = Float.float16ToFloat((short) (dd >>> 16));
            long s0 = w.get(I64, off + 4);                          // scale bytes 0..7
            int s1 = w.get(I32, off + 12);                          // scale bytes 8..11
            for (int c = 0; c < 4; c++) {
                int j = 2 * c, sc0, m0, sc1, m1;
                if (c < 2) {                                        // sub-blocks 0..3: the low 6 bits of bytes j, j+4
                    sc0 = (int) (s0 >>> 8 * j) & 63;
                    m0 = (int) (s0 >>> 8 * j + 32) & 63;
                    sc1 = (int) (s0 >>> 8 * j + 8) & 63;
                    m1 = (int) (s0 >>> 8 * j + 40) & 63;
                } else {                                            // 4..7: a nibble of byte j+4, two top bits
                    int b0 = s1 >>> 8 * (j - 4), b1 = s1 >>> 8 * (j - 3);
                    sc0 = b0 & 15 | ((int) (s0 >>> 8 * (j - 4) + 6) & 3) << 4;
                    m0 = b0 >>> 4 & 15 | ((int) (s0 >>> 8 * j + 6) & 3) << 4;
                    sc1 = b1 & 15 | ((int) (s0 >>> 8 * (j - 3) + 6) & 3) << 4;
                    m1 = b1 >>> 4 & 15 | ((int) (s0 >>> 8 * (j + 1) + 6) & 3) << 4;
                }
                float dl0 = d * sc0, ml0 = dmin * m0, dl1 = d * sc1, ml1 = dmin * m1;
                for (int g = 0; g < 2; g++) {
                    ByteVector v = ByteVector.fromMemorySegment(B, w, off + 16 + 32 * c + 16 * g, LE);
                    ByteVector lo = v.and((byte) 15);
                    ByteVector hi = v.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 15);
                    int ob = o + 64 * c + 16 * g;
                    for (int p = 0; p < PARTS; p++) {
                        int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                        ((FloatVector) lo.convertShape(VectorOperators.B2F, F, part)).fma(dl0, -ml0)
                                .intoArray(out, ob + p * VL);
                        ((FloatVector) hi.convertShape(VectorOperators.B2F, F, part)).fma(dl1, -ml1)
                                .intoArray(out, ob + 32 + p * VL);
                    }
                }
            }
        }
    }

    private static void q6K(MemorySegment seg, long off, int k, float[] out, int o) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // off-heap only: see QSpecies.NATIVE
        for (int sb = 0; sb < k / 256; sb++, off += 210, o += 256) {
            float d = f16(w, off + 208);
            for (int h = 0; h < 2; h++) {
                for (int g = 0; g < 4; g++) {
                    for (int l0 = 0; l0 < 32; l0 += 16) {
                        // as Q6KTiles.one: each column loaded where used (a vector chosen by a ternary, and
                        // reinterpretAsFloats on the Vector interface, were compiled into boxing code in a JVM that
                        // had run the other kernels: 200 MB per 2048x8192 product)
                        ByteVector e = ByteVector.fromMemorySegment(B, w, off + 64 * h + 32 * (g & 1) + l0, LE)
                                .reinterpretAsInts().lanewise(VectorOperators.LSHR, 4 * (g >> 1)).and(0x0F0F0F0F)
                                .or(ByteVector.fromMemorySegment(B, w, off + 128 + 32 * h + l0, LE).reinterpretAsInts()
                                        .lanewise(VectorOperators.LSHR, 2 * g).and(0x03030303).lanewise(VectorOperators.LSHL, 4))
                                .reinterpretAsBytes().sub((byte) 32);
                        float dl = d * w.get(ValueLayout.JAVA_BYTE, off + 192 + 8 * h + 2 * g + l0 / 16);
                        for (int p = 0; p < PARTS; p++) {
                            int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                            ((FloatVector) e.convertShape(VectorOperators.B2F, F, part)).mul(dl)
                                    .intoArray(out, o + 128 * h + 32 * g + l0 + p * VL);
                        }
                    }
                }
            }
        }
    }
}
