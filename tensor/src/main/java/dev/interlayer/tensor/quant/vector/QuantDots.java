package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.bc;
import static dev.interlayer.tensor.quant.vector.QSpecies.bytes;
import static dev.interlayer.tensor.quant.vector.QSpecies.dot16;
import static dev.interlayer.tensor.quant.vector.QSpecies.f16;
import static dev.interlayer.tensor.quant.vector.QSpecies.sum16;
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
 * sums ({@code − dmin·m·Σ x}). Two accumulators alternate between blocks so consecutive FMAs are
 * independent. Results differ from the oracle only in summation order.
 */
final class QuantDots {
    private QuantDots() {
    }

    /** Q8_0: Σ_blocks d·Σ_i q_i·x_i. */
    static float q8_0(MemorySegment w, long off, int k, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        int blocks = k / 32;
        int b = 0;
        for (; b + 2 <= blocks; b += 2, off += 68, xo += 64) {
            FloatVector s0 = dot16(bytes(w, off + 18), x, xo + 16, dot16(bytes(w, off + 2), x, xo, FloatVector.zero(F)));
            FloatVector s1 = dot16(bytes(w, off + 52), x, xo + 48, dot16(bytes(w, off + 36), x, xo + 32, FloatVector.zero(F)));
            acc0 = s0.fma(bc(f16(w, off)), acc0);
            acc1 = s1.fma(bc(f16(w, off + 34)), acc1);
        }
        if (b < blocks) {
            FloatVector s0 = dot16(bytes(w, off + 18), x, xo + 16, dot16(bytes(w, off + 2), x, xo, FloatVector.zero(F)));
            acc0 = s0.fma(bc(f16(w, off)), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Q4_0: Σ_blocks d·Σ_i (q_i − 8)·x_i; low nibbles are elements 0..15, high ones 16..31. */
    static float q4_0(MemorySegment w, long off, int k, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        int blocks = k / 32;
        for (int b = 0; b < blocks; b++, off += 18, xo += 32) {
            ByteVector v = bytes(w, off + 2);
            ByteVector lo = v.and((byte) 15).sub((byte) 8);
            ByteVector hi = v.lanewise(VectorOperators.LSHR, 4).and((byte) 15).sub((byte) 8);
            FloatVector s = dot16(hi, x, xo + 16, dot16(lo, x, xo, FloatVector.zero(F)));
            if ((b & 1) == 0) {
                acc0 = s.fma(bc(f16(w, off)), acc0);
            } else {
                acc1 = s.fma(bc(f16(w, off)), acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q4_K: per sub-block j of 32, {@code (d·sc_j)·Σ q·x − (dmin·m_j)·Σ x}. Chunk c of 32 bytes holds
     * sub-block 2c in its low nibbles and 2c+1 in its high ones.
     */
    static float q4_K(MemorySegment w, long off, int k, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int sb = 0, n = k / 256; sb < n; sb++, off += 144, xo += 256) {
            float d = f16(w, off), dmin = f16(w, off + 2);
            for (int c = 0; c < 4; c++) {
                int j = 2 * c;
                long q = off + 16 + 32 * c;
                int xb = xo + 64 * c;
                ByteVector v0 = bytes(w, q), v1 = bytes(w, q + 16);
                FloatVector sLo = dot16(v1.and((byte) 15), x, xb + 16, dot16(v0.and((byte) 15), x, xb, FloatVector.zero(F)));
                FloatVector sHi = dot16(v1.lanewise(VectorOperators.LSHR, 4).and((byte) 15), x, xb + 48,
                        dot16(v0.lanewise(VectorOperators.LSHR, 4).and((byte) 15), x, xb + 32, FloatVector.zero(F)));
                FloatVector xLo = sum16(x, xb + 16, sum16(x, xb, FloatVector.zero(F)));
                FloatVector xHi = sum16(x, xb + 48, sum16(x, xb + 32, FloatVector.zero(F)));
                acc0 = xLo.fma(bc(-(dmin * min(w, off + 4, j))), sLo.fma(bc(d * scale(w, off + 4, j)), acc0));
                acc1 = xHi.fma(bc(-(dmin * min(w, off + 4, j + 1))), sHi.fma(bc(d * scale(w, off + 4, j + 1)), acc1));
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q6_K: per sub-block of 16, {@code (d·scale)·Σ (q6 − 32)·x}. In half h, 16-byte group l0 of ql/qh gives
     * elements 128h + l0 + {0, 32, 64, 96} with scales 8h + l0/16 + {0, 2, 4, 6}.
     */
    static float q6_K(MemorySegment w, long off, int k, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int sb = 0, n = k / 256; sb < n; sb++, off += 210, xo += 256) {
            float d = f16(w, off + 208);
            long sc = off + 192;
            for (int h = 0; h < 2; h++) {
                for (int l0 = 0; l0 < 32; l0 += 16) {
                    ByteVector ql0 = bytes(w, off + 64 * h + l0), ql1 = bytes(w, off + 64 * h + 32 + l0);
                    ByteVector qh = bytes(w, off + 128 + 32 * h + l0);
                    ByteVector e0 = ql0.and((byte) 15).or(qh.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector e1 = ql1.and((byte) 15).or(qh.lanewise(VectorOperators.LSHR, 2).and((byte) 3)
                            .lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector e2 = ql0.lanewise(VectorOperators.LSHR, 4).and((byte) 15).or(qh.lanewise(VectorOperators.LSHR, 4)
                            .and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector e3 = ql1.lanewise(VectorOperators.LSHR, 4).and((byte) 15).or(qh.lanewise(VectorOperators.LSHR, 6)
                            .and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    int is = 8 * h + l0 / 16, xb = xo + 128 * h + l0;
                    acc0 = dot16(e0, x, xb, FloatVector.zero(F)).fma(bc(d * w.get(ValueLayout.JAVA_BYTE, sc + is)), acc0);
                    acc1 = dot16(e1, x, xb + 32, FloatVector.zero(F)).fma(bc(d * w.get(ValueLayout.JAVA_BYTE, sc + is + 2)), acc1);
                    acc0 = dot16(e2, x, xb + 64, FloatVector.zero(F)).fma(bc(d * w.get(ValueLayout.JAVA_BYTE, sc + is + 4)), acc0);
                    acc1 = dot16(e3, x, xb + 96, FloatVector.zero(F)).fma(bc(d * w.get(ValueLayout.JAVA_BYTE, sc + is + 6)), acc1);
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
