package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.B32;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS32;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.f16;
import static dev.interlayer.tensor.quant.vector.QSpecies.hsum;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K dot products of weight rows read in place with F32 activations, in the three tile shapes of
 * {@link Block32Tiles}, every output computed with the same operations in the same order:
 *
 * <ol>
 *   <li>super-block (256 values, 210 bytes: ql[128], qh[64], 16 int8 scales, f16 d) by super-block, half h
 *       by half: the 32-byte columns {@code ql[64h ..]}, {@code ql[64h + 32 ..]}, {@code qh[32h ..]} give the
 *       32 codes of group g = 0..3 (elements {@code 128h + 32g + l}: low nibbles of the first column, of the
 *       second, high nibbles of the first, of the second, with bits 2g, 2g+1 of qh), minus 32, as bytes;</li>
 *   <li>{@code s0 = Σ q·x} over the group's first 16 elements, {@code s1} over its last 16 (part by part,
 *       from zero); {@code acc0 = fma(s0, d·sc_{8h+2g}, acc0)}, {@code acc1 = fma(s1, d·sc_{8h+2g+1}, acc1)};</li>
 *   <li>the result is {@code hsum(acc0 + acc1)}.</li>
 * </ol>
 *
 * The products {@code d·sc} of a row are decoded into scratch by {@link #scales}, run by the caller before
 * the vector loop (see {@link Q4KTiles#far4} for why not here).
 */
final class Q6KTiles {
    private Q6KTiles() {
    }

    /** {@code s[so + i] = d·sc_i} for every 16-value sub-block i &lt; k/16 of the row at byte o. */
    static void scales(MemorySegment w, long o, int k, float[] s, int so) {
        for (int sb = 0, n = k / 256; sb < n; sb++, o += 210, so += 16) {
            float d = f16(w, o + 208);
            ByteVector sc = ByteVector.fromMemorySegment(B, w, o + 192, LE);
            for (int p = 0; p < PARTS; p++) {
                ((FloatVector) sc.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(s, so + p * VL);
            }
        }
    }

    /** Rows o0 + r·step (r &lt; 4), their scales at {@code s[4·VL + r·k/16 ..]}, with x; outputs c[ci + r·cs]. */
    static void far4(MemorySegment w, long o0, long step, int k, float[] x, int xo, float[] s, float[] c, int ci,
                     int cs) {
        long o1 = o0 + step, o2 = o1 + step, o3 = o2 + step;
        int ns = k / 16, sc = 4 * VL;
        FloatVector z = FloatVector.zero(F), e0 = z, e1 = z, e2 = z, e3 = z, f0 = z, f1 = z, f2 = z, f3 = z;
        for (int sb = 0, n = k / 256; sb < n; sb++) {
            for (int h = 0; h < 2; h++) {
                long q = 210L * sb + 64 * h, qh = 210L * sb + 128 + 32 * h;
                ByteVector a0 = ByteVector.fromMemorySegment(B32, w, o0 + q, LE);
                ByteVector b0 = ByteVector.fromMemorySegment(B32, w, o0 + q + 32, LE);
                ByteVector c0 = ByteVector.fromMemorySegment(B32, w, o0 + qh, LE);
                ByteVector a1 = ByteVector.fromMemorySegment(B32, w, o1 + q, LE);
                ByteVector b1 = ByteVector.fromMemorySegment(B32, w, o1 + q + 32, LE);
                ByteVector c1 = ByteVector.fromMemorySegment(B32, w, o1 + qh, LE);
                ByteVector a2 = ByteVector.fromMemorySegment(B32, w, o2 + q, LE);
                ByteVector b2 = ByteVector.fromMemorySegment(B32, w, o2 + q + 32, LE);
                ByteVector c2 = ByteVector.fromMemorySegment(B32, w, o2 + qh, LE);
                ByteVector a3 = ByteVector.fromMemorySegment(B32, w, o3 + q, LE);
                ByteVector b3 = ByteVector.fromMemorySegment(B32, w, o3 + q + 32, LE);
                ByteVector c3 = ByteVector.fromMemorySegment(B32, w, o3 + qh, LE);
                for (int g = 0; g < 4; g++) {
                    int lo = 4 * (g >> 1), hs = 2 * g, xb = xo + 256 * sb + 128 * h + 32 * g;
                    ByteVector q0 = ((g & 1) == 0 ? a0 : b0).reinterpretAsInts().lanewise(VectorOperators.LSHR, lo)
                            .and(0x0F0F0F0F).or(c0.reinterpretAsInts().lanewise(VectorOperators.LSHR, hs)
                                    .and(0x03030303).lanewise(VectorOperators.LSHL, 4)).reinterpretAsBytes().sub((byte) 32);
                    ByteVector q1 = ((g & 1) == 0 ? a1 : b1).reinterpretAsInts().lanewise(VectorOperators.LSHR, lo)
                            .and(0x0F0F0F0F).or(c1.reinterpretAsInts().lanewise(VectorOperators.LSHR, hs)
                                    .and(0x03030303).lanewise(VectorOperators.LSHL, 4)).reinterpretAsBytes().sub((byte) 32);
                    ByteVector q2 = ((g & 1) == 0 ? a2 : b2).reinterpretAsInts().lanewise(VectorOperators.LSHR, lo)
                            .and(0x0F0F0F0F).or(c2.reinterpretAsInts().lanewise(VectorOperators.LSHR, hs)
                                    .and(0x03030303).lanewise(VectorOperators.LSHL, 4)).reinterpretAsBytes().sub((byte) 32);
                    ByteVector q3 = ((g & 1) == 0 ? a3 : b3).reinterpretAsInts().lanewise(VectorOperators.LSHR, lo)
                            .and(0x0F0F0F0F).or(c3.reinterpretAsInts().lanewise(VectorOperators.LSHR, hs)
                                    .and(0x03030303).lanewise(VectorOperators.LSHL, 4)).reinterpretAsBytes().sub((byte) 32);
                    FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
                    for (int p = 0; p < PARTS32 / 2; p++) {
                        FloatVector xa = FloatVector.fromArray(F, x, xb + p * VL);
                        FloatVector xz = FloatVector.fromArray(F, x, xb + 16 + p * VL);
                        s00 = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, p)).fma(xa, s00);
                        s01 = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, p + PARTS32 / 2)).fma(xz, s01);
                        s10 = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, p)).fma(xa, s10);
                        s11 = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, p + PARTS32 / 2)).fma(xz, s11);
                        s20 = ((FloatVector) q2.convertShape(VectorOperators.B2F, F, p)).fma(xa, s20);
                        s21 = ((FloatVector) q2.convertShape(VectorOperators.B2F, F, p + PARTS32 / 2)).fma(xz, s21);
                        s30 = ((FloatVector) q3.convertShape(VectorOperators.B2F, F, p)).fma(xa, s30);
                        s31 = ((FloatVector) q3.convertShape(VectorOperators.B2F, F, p + PARTS32 / 2)).fma(xz, s31);
                    }
                    int j = sc + 16 * sb + 8 * h + 2 * g;
                    e0 = s00.fma(FloatVector.broadcast(F, s[j]), e0);
                    f0 = s01.fma(FloatVector.broadcast(F, s[j + 1]), f0);
                    e1 = s10.fma(FloatVector.broadcast(F, s[j + ns]), e1);
                    f1 = s11.fma(FloatVector.broadcast(F, s[j + ns + 1]), f1);
                    e2 = s20.fma(FloatVector.broadcast(F, s[j + 2 * ns]), e2);
                    f2 = s21.fma(FloatVector.broadcast(F, s[j + 2 * ns + 1]), f2);
                    e3 = s30.fma(FloatVector.broadcast(F, s[j + 3 * ns]), e3);
                    f3 = s31.fma(FloatVector.broadcast(F, s[j + 3 * ns + 1]), f3);
                }
            }
        }
        e0.add(f0).intoArray(s, 0);
        e1.add(f1).intoArray(s, VL);
        e2.add(f2).intoArray(s, 2 * VL);
        e3.add(f3).intoArray(s, 3 * VL);
        for (int r = 0; r < 4; r++) {
            c[ci + r * cs] = hsum(s, r * VL);
        }
    }

    /** One row at byte o (scales at {@code s[4·VL ..]}) with activation rows x0..x3; outputs c[c0], …. */
    static void acts4(MemorySegment w, long o, int k, float[] a, int x0, int x1, int x2, int x3, float[] s,
                      float[] c, int c0, int c1, int c2, int c3) {
        int sc = 4 * VL;
        FloatVector z = FloatVector.zero(F), e0 = z, e1 = z, e2 = z, e3 = z, f0 = z, f1 = z, f2 = z, f3 = z;
        for (int sb = 0, n = k / 256; sb < n; sb++) {
            for (int h = 0; h < 2; h++) {
                long q = o + 210L * sb + 64 * h;
                ByteVector qa = ByteVector.fromMemorySegment(B32, w, q, LE);
                ByteVector qb = ByteVector.fromMemorySegment(B32, w, q + 32, LE);
                ByteVector qh = ByteVector.fromMemorySegment(B32, w, o + 210L * sb + 128 + 32 * h, LE);
                for (int g = 0; g < 4; g++) {
                    int xb = 256 * sb + 128 * h + 32 * g;
                    ByteVector e = ((g & 1) == 0 ? qa : qb).reinterpretAsInts().lanewise(VectorOperators.LSHR, 4 * (g >> 1))
                            .and(0x0F0F0F0F).or(qh.reinterpretAsInts().lanewise(VectorOperators.LSHR, 2 * g)
                                    .and(0x03030303).lanewise(VectorOperators.LSHL, 4)).reinterpretAsBytes().sub((byte) 32);
                    FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
                    for (int p = 0; p < PARTS32 / 2; p++) {
                        FloatVector qA = (FloatVector) e.convertShape(VectorOperators.B2F, F, p);
                        FloatVector qZ = (FloatVector) e.convertShape(VectorOperators.B2F, F, p + PARTS32 / 2);
                        int xa = xb + p * VL, xz = xb + 16 + p * VL;
                        s00 = qA.fma(FloatVector.fromArray(F, a, x0 + xa), s00);
                        s01 = qZ.fma(FloatVector.fromArray(F, a, x0 + xz), s01);
                        s10 = qA.fma(FloatVector.fromArray(F, a, x1 + xa), s10);
                        s11 = qZ.fma(FloatVector.fromArray(F, a, x1 + xz), s11);
                        s20 = qA.fma(FloatVector.fromArray(F, a, x2 + xa), s20);
                        s21 = qZ.fma(FloatVector.fromArray(F, a, x2 + xz), s21);
                        s30 = qA.fma(FloatVector.fromArray(F, a, x3 + xa), s30);
                        s31 = qZ.fma(FloatVector.fromArray(F, a, x3 + xz), s31);
                    }
                    int j = sc + 16 * sb + 8 * h + 2 * g;
                    FloatVector dA = FloatVector.broadcast(F, s[j]), dZ = FloatVector.broadcast(F, s[j + 1]);
                    e0 = s00.fma(dA, e0);
                    f0 = s01.fma(dZ, f0);
                    e1 = s10.fma(dA, e1);
                    f1 = s11.fma(dZ, f1);
                    e2 = s20.fma(dA, e2);
                    f2 = s21.fma(dZ, f2);
                    e3 = s30.fma(dA, e3);
                    f3 = s31.fma(dZ, f3);
                }
            }
        }
        e0.add(f0).intoArray(s, 0);
        e1.add(f1).intoArray(s, VL);
        e2.add(f2).intoArray(s, 2 * VL);
        e3.add(f3).intoArray(s, 3 * VL);
        c[c0] = hsum(s, 0);
        c[c1] = hsum(s, VL);
        c[c2] = hsum(s, 2 * VL);
        c[c3] = hsum(s, 3 * VL);
    }

    /** One row at byte o (scales at {@code s[4·VL ..]}) with x. */
    static float one(MemorySegment w, long o, int k, float[] x, int xo, float[] s) {
        int sc = 4 * VL;
        FloatVector z = FloatVector.zero(F), e0 = z, f0 = z;
        for (int sb = 0, n = k / 256; sb < n; sb++) {
            for (int h = 0; h < 2; h++) {
                long q = o + 210L * sb + 64 * h;
                ByteVector qa = ByteVector.fromMemorySegment(B32, w, q, LE);
                ByteVector qb = ByteVector.fromMemorySegment(B32, w, q + 32, LE);
                ByteVector qh = ByteVector.fromMemorySegment(B32, w, o + 210L * sb + 128 + 32 * h, LE);
                for (int g = 0; g < 4; g++) {
                    int xb = xo + 256 * sb + 128 * h + 32 * g;
                    ByteVector e = ((g & 1) == 0 ? qa : qb).reinterpretAsInts().lanewise(VectorOperators.LSHR, 4 * (g >> 1))
                            .and(0x0F0F0F0F).or(qh.reinterpretAsInts().lanewise(VectorOperators.LSHR, 2 * g)
                                    .and(0x03030303).lanewise(VectorOperators.LSHL, 4)).reinterpretAsBytes().sub((byte) 32);
                    FloatVector s00 = z, s01 = z;
                    for (int p = 0; p < PARTS32 / 2; p++) {
                        s00 = ((FloatVector) e.convertShape(VectorOperators.B2F, F, p))
                                .fma(FloatVector.fromArray(F, x, xb + p * VL), s00);
                        s01 = ((FloatVector) e.convertShape(VectorOperators.B2F, F, p + PARTS32 / 2))
                                .fma(FloatVector.fromArray(F, x, xb + 16 + p * VL), s01);
                    }
                    int j = sc + 16 * sb + 8 * h + 2 * g;
                    e0 = s00.fma(FloatVector.broadcast(F, s[j]), e0);
                    f0 = s01.fma(FloatVector.broadcast(F, s[j + 1]), f0);
                }
            }
        }
        e0.add(f0).intoArray(s, 0);
        return hsum(s, 0);
    }
}
