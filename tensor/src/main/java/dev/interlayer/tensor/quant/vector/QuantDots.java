package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.B32;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS32;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.f16;
import static dev.interlayer.tensor.quant.vector.QSpecies.u8;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Fused decode-time dot products {@code Σ_p dequant(w)[p]·x[p]} of one quantized row with F32
 * activations, for the formats that carry most weights (Q8_0, Q4_0, Q4_K, Q6_K), reading the row once
 * in place.
 *
 * <p>F32 style: per block (or sub-block) the integer codes are widened to floats and multiplied into a
 * vector of partial sums with the activations; the block's scale is applied once to that vector
 * ({@code acc += d·Σ q·x}, one FMA), and the K-quant mins once through the activations' sub-block
 * sums ({@code − dmin·m·Σ x}). Two accumulators alternate so consecutive FMAs are independent.
 * Results differ from the oracle only in summation order.
 *
 * <p>Every Vector API call is written out in the kernel body on purpose: C2 only keeps vectors in
 * registers when the whole computation is inlined into one compiled method, and small helpers taking
 * or returning vectors were left out of line here ("callee is too large" / "uses too much stack"),
 * boxing every vector on the heap (about 100 bytes per block).
 */
final class QuantDots {
    private QuantDots() {
    }

    /** Q8_0: Σ_blocks d·Σ_i q_i·x_i. */
    static float q8_0(MemorySegment w, long off, int k, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        for (int b = 0, blocks = k / 32; b < blocks; b++, off += 34, xo += 32) {
            ByteVector v0 = ByteVector.fromMemorySegment(B, w, off + 2, LE);
            ByteVector v1 = ByteVector.fromMemorySegment(B, w, off + 18, LE);
            FloatVector s = FloatVector.zero(F);
            for (int p = 0; p < PARTS; p++) {
                s = ((FloatVector) v0.convertShape(VectorOperators.B2F, F, p))
                        .fma(FloatVector.fromArray(F, x, xo + p * VL), s);
                s = ((FloatVector) v1.convertShape(VectorOperators.B2F, F, p))
                        .fma(FloatVector.fromArray(F, x, xo + 16 + p * VL), s);
            }
            FloatVector d = FloatVector.broadcast(F, f16(w, off));
            if ((b & 1) == 0) {
                acc0 = s.fma(d, acc0);
            } else {
                acc1 = s.fma(d, acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Q4_0: Σ_blocks d·Σ_i (q_i − 8)·x_i; low nibbles are elements 0..15, high ones 16..31. */
    static float q4_0(MemorySegment w, long off, int k, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        for (int b = 0, blocks = k / 32; b < blocks; b++, off += 18, xo += 32) {
            ByteVector v = ByteVector.fromMemorySegment(B, w, off + 2, LE);
            ByteVector lo = v.and((byte) 15).sub((byte) 8);
            ByteVector hi = v.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).sub((byte) 8);
            FloatVector s = FloatVector.zero(F);
            for (int p = 0; p < PARTS; p++) {
                s = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p))
                        .fma(FloatVector.fromArray(F, x, xo + p * VL), s);
                s = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p))
                        .fma(FloatVector.fromArray(F, x, xo + 16 + p * VL), s);
            }
            FloatVector d = FloatVector.broadcast(F, f16(w, off));
            if ((b & 1) == 0) {
                acc0 = s.fma(d, acc0);
            } else {
                acc1 = s.fma(d, acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q4_K: per sub-block j of 32, {@code (d·sc_j)·Σ q·x − (dmin·m_j)·Σ x}. Chunk c of 32 bytes holds
     * sub-block 2c in its low nibbles and 2c+1 in its high ones. (Reading the chunk as one 32-byte vector
     * measured 2x slower here: the wider byte-to-float conversions cost more than the bit operations saved.)
     */
    static float q4_K(MemorySegment w, long off, int k, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        for (int sb = 0, n = k / 256; sb < n; sb++, off += 144, xo += 256) {
            float d = f16(w, off), dmin = f16(w, off + 2);
            for (int c = 0; c < 4; c++) {
                FloatVector sLo = FloatVector.zero(F), sHi = sLo, xLo = sLo, xHi = sLo;
                for (int g = 0; g < 2; g++) {
                    ByteVector v = ByteVector.fromMemorySegment(B, w, off + 16 + 32 * c + 16 * g, LE);
                    ByteVector lo = v.and((byte) 15);
                    ByteVector hi = v.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 15);
                    int xb = xo + 64 * c + 16 * g;
                    for (int p = 0; p < PARTS; p++) {
                        FloatVector xl = FloatVector.fromArray(F, x, xb + p * VL);
                        FloatVector xh = FloatVector.fromArray(F, x, xb + 32 + p * VL);
                        sLo = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p)).fma(xl, sLo);
                        sHi = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p)).fma(xh, sHi);
                        xLo = xLo.add(xl);
                        xHi = xHi.add(xh);
                    }
                }
                int j = 2 * c;
                acc0 = xLo.fma(FloatVector.broadcast(F, -(dmin * min(w, off + 4, j))),
                        sLo.fma(FloatVector.broadcast(F, d * scale(w, off + 4, j)), acc0));
                acc1 = xHi.fma(FloatVector.broadcast(F, -(dmin * min(w, off + 4, j + 1))),
                        sHi.fma(FloatVector.broadcast(F, d * scale(w, off + 4, j + 1)), acc1));
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q6_K: per sub-block of 16, {@code (d·scale)·Σ (q6 − 32)·x}. In half h, the 32-byte columns
     * {@code ql[64h ..]}, {@code ql[64h + 32 ..]} and {@code qh[32h ..]} give the 32 elements
     * {@code 128h + 32g + l} of group g (0..3: low nibbles of the first, of the second, high nibbles of the
     * first, of the second, with bits 2g, 2g+1 of qh), whose two halves have scales {@code 8h + 2g} and
     * {@code 8h + 2g + 1}. Whole 32-byte columns halve the bit operations of 16-byte ones.
     */
    static float q6_K(MemorySegment w, long off, int k, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        for (int sb = 0, n = k / 256; sb < n; sb++, off += 210, xo += 256) {
            float d = f16(w, off + 208);
            for (int h = 0; h < 2; h++) {
                ByteVector ql0 = ByteVector.fromMemorySegment(B32, w, off + 64 * h, LE);
                ByteVector ql1 = ByteVector.fromMemorySegment(B32, w, off + 64 * h + 32, LE);
                ByteVector qh = ByteVector.fromMemorySegment(B32, w, off + 128 + 32 * h, LE);
                for (int g = 0; g < 4; g++) {
                    // The Q6_K codes minus 32, written out: a helper taking vectors boxes them whenever C2
                    // declines to inline it (it did in a whole model, where the helper had been compiled on its
                    // own first), which made Q4_K_M decode of the 1B model 5x slower than it is now.
                    ByteVector e = ((g & 1) == 0 ? ql0 : ql1).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4 * (g >> 1)).and(0x0F0F0F0F)
                            .or(qh.reinterpretAsInts().lanewise(VectorOperators.LSHR, 2 * g).and(0x03030303)
                                    .lanewise(VectorOperators.LSHL, 4))
                            .reinterpretAsBytes().sub((byte) 32);
                    int xb = xo + 128 * h + 32 * g;
                    long sc = off + 192 + 8 * h + 2 * g;
                    FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
                    for (int p = 0; p < PARTS32 / 2; p++) {
                        s0 = ((FloatVector) e.convertShape(VectorOperators.B2F, F, p))
                                .fma(FloatVector.fromArray(F, x, xb + p * VL), s0);
                        s1 = ((FloatVector) e.convertShape(VectorOperators.B2F, F, p + PARTS32 / 2))
                                .fma(FloatVector.fromArray(F, x, xb + 16 + p * VL), s1);
                    }
                    FloatVector dl0 = FloatVector.broadcast(F, d * w.get(ValueLayout.JAVA_BYTE, sc));
                    FloatVector dl1 = FloatVector.broadcast(F, d * w.get(ValueLayout.JAVA_BYTE, sc + 1));
                    acc0 = s0.fma(dl0, acc0);
                    acc1 = s1.fma(dl1, acc1);
                }
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** 6-bit scale of Q4_K/Q5_K sub-block j from the 12-byte field at {@code s}. */
    static int scale(MemorySegment w, long s, int j) {
        return j < 4 ? u8(w, s + j) & 63 : (u8(w, s + j + 4) & 15) | ((u8(w, s + j - 4) >>> 6) << 4);
    }

    /** 6-bit min of Q4_K/Q5_K sub-block j. */
    static int min(MemorySegment w, long s, int j) {
        return j < 4 ? u8(w, s + j + 4) & 63 : (u8(w, s + j + 4) >>> 4) | ((u8(w, s + j) >>> 6) << 4);
    }
}
