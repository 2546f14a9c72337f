package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.I;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.NATIVE;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Batched-decode (1 &lt; m ≤ 16) tiles of Q4_K and Q6_K weights read in place, in the shape of
 * {@link Block32BatchTiles}: two weight rows times four activation rows (or four times two), each weight
 * vector dequantized once in registers exactly as {@link Q4KTiles} / {@link Q6KTiles} do for m = 1 (the same scale products, decoded per
 * super-block into {@code s[8·VL ..]} by their {@code scales}) and folded into four accumulators; every output is
 * the {@link TileDriver} sequence, bit for bit the one-row result.
 *
 * <p>Q6_K has no four-weight-row tile: decoding four rows' 6-bit codes exceeded C2's inlining budget and compiled
 * into boxing code (16 MB per 2048x8192 product at m = 2, as Q6_K's four-row decode tile did, see
 * {@link TileDriver}); its last one or two activation rows run the two-row tile with repeated rows.
 */
final class KQuantBatchTiles {
    private KQuantBatchTiles() {
    }

    /** Q4_K, per 32-byte chunk the low nibbles (sub-block 2c) then the high (2c + 1), as {@link Q4KTiles#far4}. */
    static void q4KW2X4(MemorySegment seg, long o0, long o1, int k, float[] x, int x0, int x1, int x2, int x3,
                    float[] s, float[] c, int ci, int ldc, int nr, int mr) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int sc = 8 * VL;
        FloatVector z = FloatVector.zero(F), a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        for (int ch = 0, nc = k / 64; ch < nc; ch++) {
            long qo = 144L * (ch >> 2) + 16 + 32 * (ch & 3);
            if ((ch & 3) == 0) {
                Q4KTiles.scales(w, o0 + qo - 16, 256, s, sc);
                Q4KTiles.scales(w, o1 + qo - 16, 256, s, sc + 16);
            }
            ByteVector v00 = ByteVector.fromMemorySegment(B, w, o0 + qo, LE);
            ByteVector v01 = ByteVector.fromMemorySegment(B, w, o0 + qo + 16, LE);
            ByteVector v10 = ByteVector.fromMemorySegment(B, w, o1 + qo, LE);
            ByteVector v11 = ByteVector.fromMemorySegment(B, w, o1 + qo + 16, LE);
            for (int half = 0; half < 2; half++) {
                int j = sc + 2 * (ch & 3) + half, shift = 4 * half;
                FloatVector d0 = FloatVector.broadcast(F, s[j]), m0 = FloatVector.broadcast(F, s[j + 8]);
                FloatVector d1 = FloatVector.broadcast(F, s[j + 16]), m1 = FloatVector.broadcast(F, s[j + 24]);
                for (int g = 0; g < 2; g++) {
                    ByteVector v0 = g == 0 ? v00 : v01, v1 = g == 0 ? v10 : v11;
                    for (int p = 0; p < PARTS; p++) {
                        int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                        int xp = 64 * ch + 32 * half + 16 * g + p * VL;
                        FloatVector w0 = ((FloatVector) ((IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0)).fma(d0, m0);
                        FloatVector w1 = ((FloatVector) ((IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0)).fma(d1, m1);
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

    /** Q6_K, per super-block, half h, group g and 16 codes, as {@link Q6KTiles#far2}. */
    static void q6KW2X4(MemorySegment seg, long o0, long o1, int k, float[] x, int x0, int x1, int x2, int x3,
                    float[] s, float[] c, int ci, int ldc, int nr, int mr) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int sc = 8 * VL;
        FloatVector z = FloatVector.zero(F), a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        for (int sb = 0, n = k / 256; sb < n; sb++) {
            Q6KTiles.scalesFolded(w, o0 + 210L * sb, s, sc);
            Q6KTiles.scalesFolded(w, o1 + 210L * sb, s, sc + 32);
            for (int h = 0; h < 2; h++) for (int g = 0; g < 4; g++) {
            for (int l0 = 0; l0 < 32; l0 += 16) {
            long q = 210L * sb + 64 * h + 32 * (g & 1) + l0, qh = 210L * sb + 128 + 32 * h + l0;
            int lo = 4 * (g >> 1), rot = 4 - 2 * g;
            ByteVector q0 = ByteVector.fromMemorySegment(B, w, o0 + q, LE).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHR, lo).and(0x0F0F0F0F)
                    .or(ByteVector.fromMemorySegment(B, w, o0 + qh, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.ROL, rot).and(0x30303030))
                    .reinterpretAsBytes();
            ByteVector q1 = ByteVector.fromMemorySegment(B, w, o1 + q, LE).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHR, lo).and(0x0F0F0F0F)
                    .or(ByteVector.fromMemorySegment(B, w, o1 + qh, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.ROL, rot).and(0x30303030))
                    .reinterpretAsBytes();
            int j = sc + 8 * h + 2 * g + l0 / 16, xb = 256 * sb + 128 * h + 32 * g + l0;
            FloatVector d0 = FloatVector.broadcast(F, s[j]), n0 = FloatVector.broadcast(F, s[j + 16]);
            FloatVector d1 = FloatVector.broadcast(F, s[j + 32]), n1 = FloatVector.broadcast(F, s[j + 48]);
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                int xp = xb + p * VL;
                FloatVector w0 = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, part)).fma(d0, n0);
                FloatVector w1 = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, part)).fma(d1, n1);
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
    static void q4KW4X2(MemorySegment seg, long o0, long o1, long o2, long o3, int k, float[] x, int x0, int x1,
                        float[] s, float[] c, int ci, int ldc, int nr, int mr) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int sc = 8 * VL;
        FloatVector z = FloatVector.zero(F), a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        for (int ch = 0, nc = k / 64; ch < nc; ch++) {
            long qo = 144L * (ch >> 2) + 16 + 32 * (ch & 3);
            if ((ch & 3) == 0) {
                Q4KTiles.scales(w, o0 + qo - 16, 256, s, sc);
                Q4KTiles.scales(w, o1 + qo - 16, 256, s, sc + 16);
                Q4KTiles.scales(w, o2 + qo - 16, 256, s, sc + 32);
                Q4KTiles.scales(w, o3 + qo - 16, 256, s, sc + 48);
            }
            ByteVector v00 = ByteVector.fromMemorySegment(B, w, o0 + qo, LE);
            ByteVector v01 = ByteVector.fromMemorySegment(B, w, o0 + qo + 16, LE);
            ByteVector v10 = ByteVector.fromMemorySegment(B, w, o1 + qo, LE);
            ByteVector v11 = ByteVector.fromMemorySegment(B, w, o1 + qo + 16, LE);
            ByteVector v20 = ByteVector.fromMemorySegment(B, w, o2 + qo, LE);
            ByteVector v21 = ByteVector.fromMemorySegment(B, w, o2 + qo + 16, LE);
            ByteVector v30 = ByteVector.fromMemorySegment(B, w, o3 + qo, LE);
            ByteVector v31 = ByteVector.fromMemorySegment(B, w, o3 + qo + 16, LE);
            for (int half = 0; half < 2; half++) {
                int j = sc + 2 * (ch & 3) + half, shift = 4 * half;
                FloatVector d0 = FloatVector.broadcast(F, s[j]), m0 = FloatVector.broadcast(F, s[j + 8]);
                FloatVector d1 = FloatVector.broadcast(F, s[j + 16]), m1 = FloatVector.broadcast(F, s[j + 24]);
                FloatVector d2 = FloatVector.broadcast(F, s[j + 32]), m2 = FloatVector.broadcast(F, s[j + 40]);
                FloatVector d3 = FloatVector.broadcast(F, s[j + 48]), m3 = FloatVector.broadcast(F, s[j + 56]);
                for (int g = 0; g < 2; g++) {
                    ByteVector v0 = g == 0 ? v00 : v01, v1 = g == 0 ? v10 : v11;
                    ByteVector v2 = g == 0 ? v20 : v21, v3 = g == 0 ? v30 : v31;
                    for (int p = 0; p < PARTS; p++) {
                        int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                        int xp = 64 * ch + 32 * half + 16 * g + p * VL;
                        FloatVector w0 = ((FloatVector) ((IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0)).fma(d0, m0);
                        FloatVector w1 = ((FloatVector) ((IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0)).fma(d1, m1);
                        FloatVector w2 = ((FloatVector) ((IntVector) v2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0)).fma(d2, m2);
                        FloatVector w3 = ((FloatVector) ((IntVector) v3.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                                .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0)).fma(d3, m3);
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
