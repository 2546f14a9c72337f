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
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_K dot products of weight rows read in place with F32 activations, in the three tile shapes of
 * {@link Block32Tiles} (four far weight rows; one weight row with four activation rows; one of each),
 * every output computed with the same operations in the same order:
 *
 * <ol>
 *   <li>super-block (256 values, 144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of
 *       nibbles) by super-block, chunk c of 32 bytes by chunk: its low nibbles are sub-block 2c, its high
 *       ones 2c + 1; bytes are widened unsigned to int lanes (low: {@code & 15}, high: {@code >>> 4});</li>
 *   <li>{@code sLo = Σ q·x}, {@code sHi} likewise, half g = 0, 1 then part p, from zero; then
 *       {@code accLo = fma(sLo, d·sc_2c, accLo)} and {@code accHi = fma(sHi, d·sc_2c+1, accHi)};</li>
 *   <li>the mins enter once per sub-block through the activations' sub-block sums X_j (computed per call,
 *       {@link #sums}): {@code mt = Σ_j dmin·m_j·X_j} in the fixed order of {@link #mins};</li>
 *   <li>the result is {@code hsum(accLo + accHi) − mt}.</li>
 * </ol>
 *
 * The scales of each weight row are decoded into scratch ({@code d·sc_j}, {@link #scales}) and its min
 * term summed ({@link #mins}) by scalar passes before the vector loop.
 */
final class Q4KTiles {
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Long> L1 = LongVector.SPECIES_128;   // two lanes: C2 has no one-lane vectors
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q4KTiles() {
    }

    /**
     * {@code X[xo + j] = Σ_{l<32} x[xi + 32j + l]} for j &lt; k/32, summed left to right. Scalar on purpose:
     * it runs once per call, too rarely for C2 to compile it early, and interpreted Vector API code boxes.
     */
    static void sums(float[] x, int xi, int k, float[] X, int xo) {
        for (int j = 0, nj = k / 32; j < nj; j++, xi += 32) {
            float v = 0;
            for (int l = 0; l < 32; l++) {
                v += x[xi + l];
            }
            X[xo + j] = v;
        }
    }

    /**
     * {@code s[so + j] = d·sc_j} for every sub-block j &lt; k/32 of the row at byte o. One pass before the
     * vector loop: decoding each super-block inside it (a call per row per super-block, vectors live across
     * it) measured 2x slower, byte-by-byte segment reads 3.6x slower than that, and this pass in scalar code
     * (eight conversions and products per super-block on the same pipes as the vector work) halved the
     * kernel's speed. The 12 scale bytes are read as a long and an int, taken apart four at a time, and the
     * eight scales converted and scaled as one 8-lane vector.
     */
    static void scales(MemorySegment w, long o, int k, float[] s, int so) {
        for (int sb = 0, n = k / 256; sb < n; sb++, o += 144, so += 8) {
            long lo = w.get(I64, o + 4);
            int hi = w.get(I32, o + 12);
            float d = Float.float16ToFloat(w.get(I16, o));
            int b03 = (int) lo;
            long sc = (b03 & 0x3F3F3F3FL) | (long) ((hi & 0x0F0F0F0F) | ((b03 >>> 2) & 0x30303030)) << 32;
            ((FloatVector) LongVector.broadcast(L1, sc).reinterpretAsBytes().convertShape(VectorOperators.B2F, F8, 0))
                    .mul(d).intoArray(s, so);
        }
    }

    /**
     * The min term of the row at byte o: {@code Σ_j dmin·m_j·X[xo + j]} over its k/32 sub-blocks, as eight
     * partial sums (lane j mod 8: {@code t_j = fma(dmin·m_j, X_j, t_j)} super-block by super-block) added
     * pairwise at the end; vectorized as {@link #scales}. (A single scalar FMA chain of k/32 links was
     * slower than the vector loop over the same row.)
     */
    static float mins(MemorySegment w, long o, int k, float[] X, int xo) {
        FloatVector t = FloatVector.zero(F8);
        for (int sb = 0, n = k / 256; sb < n; sb++, o += 144, xo += 8) {
            long lo = w.get(I64, o + 4);
            int hi = w.get(I32, o + 12);
            float dmin = Float.float16ToFloat(w.get(I16, o + 2));
            int b47 = (int) (lo >>> 32);
            long mn = (b47 & 0x3F3F3F3FL) | (long) (((hi >>> 4) & 0x0F0F0F0F) | ((b47 >>> 2) & 0x30303030)) << 32;
            t = ((FloatVector) LongVector.broadcast(L1, mn).reinterpretAsBytes().convertShape(VectorOperators.B2F, F8, 0))
                    .mul(dmin).fma(FloatVector.fromArray(F8, X, xo), t);
        }
        return ((t.lane(0) + t.lane(1)) + (t.lane(2) + t.lane(3))) + ((t.lane(4) + t.lane(5)) + (t.lane(6) + t.lane(7)));
    }

    /**
     * Rows o0 + r·step (r &lt; 4) with x; their scales at {@code s[4·VL + r·k/32 ..]} and min terms m0..m3
     * (from {@link #scales} and {@link #mins}, run by the caller: inlined here they pushed this method past
     * C2's node budget); outputs c[ci + r·cs].
     */
    static void far4(MemorySegment w, long o0, long step, int k, float[] x, int xo, float[] s, float m0, float m1,
                     float m2, float m3, float[] c, int ci, int cs) {
        long o1 = o0 + step, o2 = o1 + step, o3 = o2 + step;
        int nj = k / 32, sc = 4 * VL;
        FloatVector z = FloatVector.zero(F), e0 = z, e1 = z, e2 = z, e3 = z, f0 = z, f1 = z, f2 = z, f3 = z;
        for (int sb = 0, n = k / 256; sb < n; sb++, xo += 256, sc += 8) {
            long so = 144L * sb;
            for (int ch = 0; ch < 4; ch++) {
                FloatVector l0 = z, l1 = z, l2 = z, l3 = z, h0 = z, h1 = z, h2 = z, h3 = z;
                for (int g = 0; g < 2; g++) {
                    long q = so + 16 + 32 * ch + 16 * g;
                    ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + q, LE);
                    ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + q, LE);
                    ByteVector v2 = ByteVector.fromMemorySegment(B, w, o2 + q, LE);
                    ByteVector v3 = ByteVector.fromMemorySegment(B, w, o3 + q, LE);
                    for (int p = 0; p < PARTS; p++) {
                        int xb = xo + 64 * ch + 16 * g + p * VL;
                        FloatVector xl = FloatVector.fromArray(F, x, xb), xh = FloatVector.fromArray(F, x, xb + 32);
                        IntVector u0 = (IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                        IntVector u1 = (IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                        IntVector u2 = (IntVector) v2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                        IntVector u3 = (IntVector) v3.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                        l0 = ((FloatVector) u0.and(15).convert(VectorOperators.I2F, 0)).fma(xl, l0);
                        h0 = ((FloatVector) u0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, h0);
                        l1 = ((FloatVector) u1.and(15).convert(VectorOperators.I2F, 0)).fma(xl, l1);
                        h1 = ((FloatVector) u1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, h1);
                        l2 = ((FloatVector) u2.and(15).convert(VectorOperators.I2F, 0)).fma(xl, l2);
                        h2 = ((FloatVector) u2.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, h2);
                        l3 = ((FloatVector) u3.and(15).convert(VectorOperators.I2F, 0)).fma(xl, l3);
                        h3 = ((FloatVector) u3.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, h3);
                    }
                }
                int j = sc + 2 * ch;
                e0 = l0.fma(FloatVector.broadcast(F, s[j]), e0);
                f0 = h0.fma(FloatVector.broadcast(F, s[j + 1]), f0);
                e1 = l1.fma(FloatVector.broadcast(F, s[j + nj]), e1);
                f1 = h1.fma(FloatVector.broadcast(F, s[j + nj + 1]), f1);
                e2 = l2.fma(FloatVector.broadcast(F, s[j + 2 * nj]), e2);
                f2 = h2.fma(FloatVector.broadcast(F, s[j + 2 * nj + 1]), f2);
                e3 = l3.fma(FloatVector.broadcast(F, s[j + 3 * nj]), e3);
                f3 = h3.fma(FloatVector.broadcast(F, s[j + 3 * nj + 1]), f3);
            }
        }
        e0.add(f0).intoArray(s, 0);
        e1.add(f1).intoArray(s, VL);
        e2.add(f2).intoArray(s, 2 * VL);
        e3.add(f3).intoArray(s, 3 * VL);
        c[ci] = hsum(s, 0) - m0;
        c[ci + cs] = hsum(s, VL) - m1;
        c[ci + 2 * cs] = hsum(s, 2 * VL) - m2;
        c[ci + 3 * cs] = hsum(s, 3 * VL) - m3;
    }

    /** One row at byte o (scales at {@code s[4·VL ..]}) with activation rows x0..x3 (min terms m0..m3), outputs c[c0], …. */
    static void acts4(MemorySegment w, long o, int k, float[] a, int x0, int x1, int x2, int x3, float[] s, float m0,
                      float m1, float m2, float m3, float[] c, int c0, int c1, int c2, int c3) {
        int sc = 4 * VL;
        FloatVector z = FloatVector.zero(F), e0 = z, e1 = z, e2 = z, e3 = z, f0 = z, f1 = z, f2 = z, f3 = z;
        for (int sb = 0, n = k / 256; sb < n; sb++, o += 144, sc += 8) {
            for (int ch = 0; ch < 4; ch++) {
                FloatVector l0 = z, l1 = z, l2 = z, l3 = z, h0 = z, h1 = z, h2 = z, h3 = z;
                for (int g = 0; g < 2; g++) {
                    ByteVector v = ByteVector.fromMemorySegment(B, w, o + 16 + 32 * ch + 16 * g, LE);
                    for (int p = 0; p < PARTS; p++) {
                        int xb = 256 * sb + 64 * ch + 16 * g + p * VL;
                        IntVector u = (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                        FloatVector ql = (FloatVector) u.and(15).convert(VectorOperators.I2F, 0);
                        FloatVector qh = (FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
                        l0 = ql.fma(FloatVector.fromArray(F, a, x0 + xb), l0);
                        h0 = qh.fma(FloatVector.fromArray(F, a, x0 + xb + 32), h0);
                        l1 = ql.fma(FloatVector.fromArray(F, a, x1 + xb), l1);
                        h1 = qh.fma(FloatVector.fromArray(F, a, x1 + xb + 32), h1);
                        l2 = ql.fma(FloatVector.fromArray(F, a, x2 + xb), l2);
                        h2 = qh.fma(FloatVector.fromArray(F, a, x2 + xb + 32), h2);
                        l3 = ql.fma(FloatVector.fromArray(F, a, x3 + xb), l3);
                        h3 = qh.fma(FloatVector.fromArray(F, a, x3 + xb + 32), h3);
                    }
                }
                FloatVector dl = FloatVector.broadcast(F, s[sc + 2 * ch]), dh = FloatVector.broadcast(F, s[sc + 2 * ch + 1]);
                e0 = l0.fma(dl, e0);
                f0 = h0.fma(dh, f0);
                e1 = l1.fma(dl, e1);
                f1 = h1.fma(dh, f1);
                e2 = l2.fma(dl, e2);
                f2 = h2.fma(dh, f2);
                e3 = l3.fma(dl, e3);
                f3 = h3.fma(dh, f3);
            }
        }
        e0.add(f0).intoArray(s, 0);
        e1.add(f1).intoArray(s, VL);
        e2.add(f2).intoArray(s, 2 * VL);
        e3.add(f3).intoArray(s, 3 * VL);
        c[c0] = hsum(s, 0) - m0;
        c[c1] = hsum(s, VL) - m1;
        c[c2] = hsum(s, 2 * VL) - m2;
        c[c3] = hsum(s, 3 * VL) - m3;
    }

    static float one(MemorySegment w, long o, int k, float[] x, int xo, float[] s, float mt) {
        int sc = 4 * VL;
        FloatVector z = FloatVector.zero(F), e = z, f = z;
        for (int sb = 0, n = k / 256; sb < n; sb++, o += 144, xo += 256, sc += 8) {
            for (int ch = 0; ch < 4; ch++) {
                FloatVector l = z, h = z;
                for (int g = 0; g < 2; g++) {
                    ByteVector v = ByteVector.fromMemorySegment(B, w, o + 16 + 32 * ch + 16 * g, LE);
                    for (int p = 0; p < PARTS; p++) {
                        int xb = xo + 64 * ch + 16 * g + p * VL;
                        IntVector u = (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, p);
                        l = ((FloatVector) u.and(15).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.fromArray(F, x, xb), l);
                        h = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.fromArray(F, x, xb + 32), h);
                    }
                }
                e = l.fma(FloatVector.broadcast(F, s[sc + 2 * ch]), e);
                f = h.fma(FloatVector.broadcast(F, s[sc + 2 * ch + 1]), f);
            }
        }
        e.add(f).intoArray(s, 0);
        return hsum(s, 0) - mt;
    }
}
