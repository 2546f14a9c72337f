package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.I;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
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
 * Q8_0 and Q4_0 dot products {@code Σ_b d_b·Σ_i q_{b,i}·x_{32b+i}} (Q4_0: codes {@code q − 8}) of
 * weight rows read in place with F32 activations, in three tile shapes that compute every output with
 * the same operations in the same order, so each output is bit for bit the same whichever tile made it:
 *
 * <ol>
 *   <li>per block b, {@code s = Σ_p fma(lo_p, x_lo_p, fma(...))} over the {@link QSpecies#PARTS} float
 *       vectors of the 16 low elements then the 16 high ones interleaved part by part, from zero;</li>
 *   <li>{@code acc_{b mod 2} = fma(s, broadcast(d_b), acc_{b mod 2})} (two chains, so consecutive
 *       blocks' FMAs are independent);</li>
 *   <li>the result is {@link QSpecies#hsum} of {@code acc_0 + acc_1}.</li>
 * </ol>
 *
 * {@code far4}: four weight rows {@code step} bytes apart with one activation row (decode: four read
 * streams, each activation load shared by four rows); {@code acts4}: one weight row with four
 * activation rows (prefill and batched decode: each weight block is read and widened once for four
 * rows); {@code one}: one of each. Vector API calls are written out in each loop for the reason given in
 * {@link QuantDots}; the swap of the two chains after each block keeps the loop body one block long.
 */
final class Block32Tiles {
    private Block32Tiles() {
    }

    // ---------------- Q8_0: 34-byte blocks, f16 d then 32 signed bytes ----------------

    static void q8_0Far4(MemorySegment w, long o0, long step, int k, float[] x, int xo, float[] red, float[] c,
                         int ci, int cs) {
        long o1 = o0 + step, o2 = o1 + step, o3 = o2 + step;
        FloatVector z = FloatVector.zero(F), e0 = z, e1 = z, e2 = z, e3 = z, f0 = z, f1 = z, f2 = z, f3 = z, t;
        for (int b = 0, nb = k / 32; b < nb; b++, xo += 32) {
            long bo = 34L * b;
            FloatVector d0 = FloatVector.broadcast(F, f16(w, o0 + bo)), d1 = FloatVector.broadcast(F, f16(w, o1 + bo));
            FloatVector d2 = FloatVector.broadcast(F, f16(w, o2 + bo)), d3 = FloatVector.broadcast(F, f16(w, o3 + bo));
            ByteVector l0 = ByteVector.fromMemorySegment(B, w, o0 + bo + 2, LE);
            ByteVector h0 = ByteVector.fromMemorySegment(B, w, o0 + bo + 18, LE);
            ByteVector l1 = ByteVector.fromMemorySegment(B, w, o1 + bo + 2, LE);
            ByteVector h1 = ByteVector.fromMemorySegment(B, w, o1 + bo + 18, LE);
            ByteVector l2 = ByteVector.fromMemorySegment(B, w, o2 + bo + 2, LE);
            ByteVector h2 = ByteVector.fromMemorySegment(B, w, o2 + bo + 18, LE);
            ByteVector l3 = ByteVector.fromMemorySegment(B, w, o3 + bo + 2, LE);
            ByteVector h3 = ByteVector.fromMemorySegment(B, w, o3 + bo + 18, LE);
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            for (int p = 0; p < PARTS; p++) {
                FloatVector xl = FloatVector.fromArray(F, x, xo + p * VL);
                FloatVector xh = FloatVector.fromArray(F, x, xo + 16 + p * VL);
                s0 = ((FloatVector) l0.convertShape(VectorOperators.B2F, F, p)).fma(xl, s0);
                s0 = ((FloatVector) h0.convertShape(VectorOperators.B2F, F, p)).fma(xh, s0);
                s1 = ((FloatVector) l1.convertShape(VectorOperators.B2F, F, p)).fma(xl, s1);
                s1 = ((FloatVector) h1.convertShape(VectorOperators.B2F, F, p)).fma(xh, s1);
                s2 = ((FloatVector) l2.convertShape(VectorOperators.B2F, F, p)).fma(xl, s2);
                s2 = ((FloatVector) h2.convertShape(VectorOperators.B2F, F, p)).fma(xh, s2);
                s3 = ((FloatVector) l3.convertShape(VectorOperators.B2F, F, p)).fma(xl, s3);
                s3 = ((FloatVector) h3.convertShape(VectorOperators.B2F, F, p)).fma(xh, s3);
            }
            t = e0; e0 = f0; f0 = s0.fma(d0, t);
            t = e1; e1 = f1; f1 = s1.fma(d1, t);
            t = e2; e2 = f2; f2 = s2.fma(d2, t);
            t = e3; e3 = f3; f3 = s3.fma(d3, t);
        }
        e0.add(f0).intoArray(red, 0);
        e1.add(f1).intoArray(red, VL);
        e2.add(f2).intoArray(red, 2 * VL);
        e3.add(f3).intoArray(red, 3 * VL);
        for (int r = 0; r < 4; r++) {
            c[ci + r * cs] = hsum(red, r * VL);
        }
    }

    static void q8_0Acts4(MemorySegment w, long o, int k, float[] a, int x0, int x1, int x2, int x3, float[] red,
                          float[] c, int c0, int c1, int c2, int c3) {
        FloatVector z = FloatVector.zero(F), e0 = z, e1 = z, e2 = z, e3 = z, f0 = z, f1 = z, f2 = z, f3 = z, t;
        for (int b = 0, nb = k / 32; b < nb; b++, o += 34) {
            ByteVector lo = ByteVector.fromMemorySegment(B, w, o + 2, LE);
            ByteVector hi = ByteVector.fromMemorySegment(B, w, o + 18, LE);
            FloatVector s0 = z, s1 = z, s2 = z, s3 = z;
            int xo = 32 * b;
            for (int p = 0; p < PARTS; p++) {
                FloatVector ql = (FloatVector) lo.convertShape(VectorOperators.B2F, F, p);
                FloatVector qh = (FloatVector) hi.convertShape(VectorOperators.B2F, F, p);
                int xl = xo + p * VL, xh = xo + 16 + p * VL;
                s0 = qh.fma(FloatVector.fromArray(F, a, x0 + xh), ql.fma(FloatVector.fromArray(F, a, x0 + xl), s0));
                s1 = qh.fma(FloatVector.fromArray(F, a, x1 + xh), ql.fma(FloatVector.fromArray(F, a, x1 + xl), s1));
                s2 = qh.fma(FloatVector.fromArray(F, a, x2 + xh), ql.fma(FloatVector.fromArray(F, a, x2 + xl), s2));
                s3 = qh.fma(FloatVector.fromArray(F, a, x3 + xh), ql.fma(FloatVector.fromArray(F, a, x3 + xl), s3));
            }
            FloatVector d = FloatVector.broadcast(F, f16(w, o));
            t = e0; e0 = f0; f0 = s0.fma(d, t);
            t = e1; e1 = f1; f1 = s1.fma(d, t);
            t = e2; e2 = f2; f2 = s2.fma(d, t);
            t = e3; e3 = f3; f3 = s3.fma(d, t);
        }
        e0.add(f0).intoArray(red, 0);
        e1.add(f1).intoArray(red, VL);
        e2.add(f2).intoArray(red, 2 * VL);
        e3.add(f3).intoArray(red, 3 * VL);
        c[c0] = hsum(red, 0);
        c[c1] = hsum(red, VL);
        c[c2] = hsum(red, 2 * VL);
        c[c3] = hsum(red, 3 * VL);
    }

    static float q8_0One(MemorySegment w, long o, int k, float[] x, int xo, float[] red) {
        FloatVector z = FloatVector.zero(F), e = z, f = z, t;
        for (int b = 0, nb = k / 32; b < nb; b++, o += 34, xo += 32) {
            ByteVector lo = ByteVector.fromMemorySegment(B, w, o + 2, LE);
            ByteVector hi = ByteVector.fromMemorySegment(B, w, o + 18, LE);
            FloatVector s = z;
            for (int p = 0; p < PARTS; p++) {
                s = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p))
                        .fma(FloatVector.fromArray(F, x, xo + p * VL), s);
                s = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p))
                        .fma(FloatVector.fromArray(F, x, xo + 16 + p * VL), s);
            }
            t = e; e = f; f = s.fma(FloatVector.broadcast(F, f16(w, o)), t);
        }
        e.add(f).intoArray(red, 0);
        return hsum(red, 0);
    }

    // ---------------- Q4_0: 18-byte blocks, f16 d then 16 bytes: element i low nibble, 16 + i high ----------------
    // Codes are widened unsigned to int lanes (low nibble: & 15, high: >>> 4) and the −8 enters through
    // the block's offset vector n (see offsets), the starting value of s: Σ (q − 8)·x = n_b + Σ q·x.

    /**
     * {@code n[no + VL·b + lane] = −8·Σ_p (x[32b + p·VL + lane] + x[32b + 16 + p·VL + lane])}: the per-block
     * offset vectors of the Q4_0 tiles for one activation row, k/32 blocks.
     */
    static void offsets(float[] x, int xo, int k, float[] n, int no) {
        // scalar, lane by lane, with the additions of the vector form: it runs once per call, too rarely for C2
        // to compile it early, and interpreted Vector API code boxes every vector
        for (int b = 0, nb = k / 32; b < nb; b++, xo += 32) {
            for (int l = 0; l < VL; l++) {
                float s = x[xo + l] + x[xo + 16 + l];
                for (int p = 1; p < PARTS; p++) {
                    s += x[xo + p * VL + l] + x[xo + 16 + p * VL + l];
                }
                n[no + b * VL + l] = s * -8f;
            }
        }
    }

    static void q4_0Far4(MemorySegment w, long o0, long step, int k, float[] x, int xo, float[] n, int no,
                         float[] red, float[] c, int ci, int cs) {
        long o1 = o0 + step, o2 = o1 + step, o3 = o2 + step;
        FloatVector z = FloatVector.zero(F), e0 = z, e1 = z, e2 = z, e3 = z, f0 = z, f1 = z, f2 = z, f3 = z, t;
        for (int b = 0, nb = k / 32; b < nb; b++, xo += 32, no += VL) {
            long bo = 18L * b;
            FloatVector d0 = FloatVector.broadcast(F, f16(w, o0 + bo)), d1 = FloatVector.broadcast(F, f16(w, o1 + bo));
            FloatVector d2 = FloatVector.broadcast(F, f16(w, o2 + bo)), d3 = FloatVector.broadcast(F, f16(w, o3 + bo));
            ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + bo + 2, LE);
            ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + bo + 2, LE);
            ByteVector v2 = ByteVector.fromMemorySegment(B, w, o2 + bo + 2, LE);
            ByteVector v3 = ByteVector.fromMemorySegment(B, w, o3 + bo + 2, LE);
            FloatVector s0 = FloatVector.fromArray(F, n, no), s1 = s0, s2 = s0, s3 = s0;
            for (int p = 0; p < PARTS; p++) {
                FloatVector xl = FloatVector.fromArray(F, x, xo + p * VL);
                FloatVector xh = FloatVector.fromArray(F, x, xo + 16 + p * VL);
                IntVector u0 = (IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                IntVector u1 = (IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                IntVector u2 = (IntVector) v2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                IntVector u3 = (IntVector) v3.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                s0 = ((FloatVector) u0.and(15).convert(VectorOperators.I2F, 0)).fma(xl, s0);
                s0 = ((FloatVector) u0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, s0);
                s1 = ((FloatVector) u1.and(15).convert(VectorOperators.I2F, 0)).fma(xl, s1);
                s1 = ((FloatVector) u1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, s1);
                s2 = ((FloatVector) u2.and(15).convert(VectorOperators.I2F, 0)).fma(xl, s2);
                s2 = ((FloatVector) u2.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, s2);
                s3 = ((FloatVector) u3.and(15).convert(VectorOperators.I2F, 0)).fma(xl, s3);
                s3 = ((FloatVector) u3.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, s3);
            }
            t = e0; e0 = f0; f0 = s0.fma(d0, t);
            t = e1; e1 = f1; f1 = s1.fma(d1, t);
            t = e2; e2 = f2; f2 = s2.fma(d2, t);
            t = e3; e3 = f3; f3 = s3.fma(d3, t);
        }
        e0.add(f0).intoArray(red, 0);
        e1.add(f1).intoArray(red, VL);
        e2.add(f2).intoArray(red, 2 * VL);
        e3.add(f3).intoArray(red, 3 * VL);
        for (int r = 0; r < 4; r++) {
            c[ci + r * cs] = hsum(red, r * VL);
        }
    }

    /** As {@link #q8_0Acts4}; {@code n0..n3}: each activation row's offsets in {@code n}. */
    static void q4_0Acts4(MemorySegment w, long o, int k, float[] a, int x0, int x1, int x2, int x3, float[] n,
                          int n0, int n1, int n2, int n3, float[] red, float[] c, int c0, int c1, int c2, int c3) {
        FloatVector z = FloatVector.zero(F), e0 = z, e1 = z, e2 = z, e3 = z, f0 = z, f1 = z, f2 = z, f3 = z, t;
        for (int b = 0, nb = k / 32; b < nb; b++, o += 18) {
            FloatVector d = FloatVector.broadcast(F, f16(w, o));
            ByteVector v = ByteVector.fromMemorySegment(B, w, o + 2, LE);
            int nbo = b * VL;
            FloatVector s0 = FloatVector.fromArray(F, n, n0 + nbo), s1 = FloatVector.fromArray(F, n, n1 + nbo);
            FloatVector s2 = FloatVector.fromArray(F, n, n2 + nbo), s3 = FloatVector.fromArray(F, n, n3 + nbo);
            int xo = 32 * b;
            for (int p = 0; p < PARTS; p++) {
                IntVector u = (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                FloatVector ql = (FloatVector) u.and(15).convert(VectorOperators.I2F, 0);
                FloatVector qh = (FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
                int xl = xo + p * VL, xh = xo + 16 + p * VL;
                s0 = qh.fma(FloatVector.fromArray(F, a, x0 + xh), ql.fma(FloatVector.fromArray(F, a, x0 + xl), s0));
                s1 = qh.fma(FloatVector.fromArray(F, a, x1 + xh), ql.fma(FloatVector.fromArray(F, a, x1 + xl), s1));
                s2 = qh.fma(FloatVector.fromArray(F, a, x2 + xh), ql.fma(FloatVector.fromArray(F, a, x2 + xl), s2));
                s3 = qh.fma(FloatVector.fromArray(F, a, x3 + xh), ql.fma(FloatVector.fromArray(F, a, x3 + xl), s3));
            }
            t = e0; e0 = f0; f0 = s0.fma(d, t);
            t = e1; e1 = f1; f1 = s1.fma(d, t);
            t = e2; e2 = f2; f2 = s2.fma(d, t);
            t = e3; e3 = f3; f3 = s3.fma(d, t);
        }
        e0.add(f0).intoArray(red, 0);
        e1.add(f1).intoArray(red, VL);
        e2.add(f2).intoArray(red, 2 * VL);
        e3.add(f3).intoArray(red, 3 * VL);
        c[c0] = hsum(red, 0);
        c[c1] = hsum(red, VL);
        c[c2] = hsum(red, 2 * VL);
        c[c3] = hsum(red, 3 * VL);
    }

    static float q4_0One(MemorySegment w, long o, int k, float[] x, int xo, float[] n, int no, float[] red) {
        FloatVector z = FloatVector.zero(F), e = z, f = z, t;
        for (int b = 0, nb = k / 32; b < nb; b++, o += 18, xo += 32, no += VL) {
            FloatVector d = FloatVector.broadcast(F, f16(w, o));
            ByteVector v = ByteVector.fromMemorySegment(B, w, o + 2, LE);
            FloatVector s = FloatVector.fromArray(F, n, no);
            for (int p = 0; p < PARTS; p++) {
                IntVector u = (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                s = ((FloatVector) u.and(15).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, x, xo + p * VL), s);
                s = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(F, x, xo + 16 + p * VL), s);
            }
            t = e; e = f; f = s.fma(d, t);
        }
        e.add(f).intoArray(red, 0);
        return hsum(red, 0);
    }
}
