package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.BV;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.FV;
import static dev.interlayer.tensor.quant.vector.QSpecies.IV4;
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
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode-time (m = 1) dot products of Q6_K weight rows read in place with F32 activations: two rows far
 * apart ({@link #far2}; see {@link TileDriver} for why not four) or one. Each output is the {@link TileDriver} sequence over the row dequantized
 * exactly as {@link QuantDecode} does ({@code (q − 32)·(d·sc)}): per super-block (256 values, 210 bytes:
 * ql[128], qh[64], 16 int8 scales, f16 d) and half h, the 32-byte columns {@code ql[64h ..]},
 * {@code ql[64h + 32 ..]}, {@code qh[32h ..]} give the codes of group g = 0..3 (elements
 * {@code 128h + 32g + l}: low nibbles of the first column, of the second, high nibbles of the first, of the
 * second, with bits 2g, 2g+1 of qh), minus 32 as bytes, 16 at a time. (Whole 32-byte columns halve the
 * bit operations, but a 256-bit byte shape next to the other kernels' 128-bit one measured 2-3x slower in a
 * JVM that had run all four formats: shared profiles inside the Vector API.) The products {@code d·sc}
 * of each super-block are decoded into scratch by {@link #scales} when the loop reaches it (see
 * {@link Q4KTiles} for why).
 */
final class Q6KTiles {
    /** Four int lanes: a 16-byte column loaded as ints (the nibble and bit operations of {@link #far2Wide}). */
    private static final VectorSpecies<Integer> I4 = IntVector.SPECIES_128;

    private Q6KTiles() {
    }

    /**
     * For the super-block at byte o: {@code s[so + i] = d·sc_i} and {@code s[so + 16 + i] = −32·d·sc_i} (i &lt; 16),
     * the two operands of the decode kernels' {@code fma(q, d·sc, −32·d·sc)}. Multiplying by −32 is exact, so that
     * FMA rounds the exact {@code (q − 32)·d·sc} once, the float {@link QuantDecode} gets from {@code (q − 32)}
     * times {@code d·sc}, except that q = 32 with a negative {@code d·sc} gives +0 where the product gives −0. The
     * dot products do not see the difference: their accumulators start at +0 and an FMA can only return −0 from a
     * −0 accumulator, so adding ±0 leaves every accumulator value unchanged. The byte subtraction this replaces is
     * one operation fewer per 16 codes. ({@link QuantDecode}, which writes the floats themselves, keeps the
     * subtraction.)
     */
    static void scalesFolded(MemorySegment w, long o, float[] s, int so) {
        float d = f16(w, o + 208);
        ByteVector sc = ByteVector.fromMemorySegment(B, w, o + 192, LE);
        for (int p = 0; p < PARTS; p++) {
            int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
            FloatVector v = ((FloatVector) sc.convertShape(VectorOperators.B2F, F, part)).mul(d);
            v.intoArray(s, so + p * VL);
            v.mul(-32f).intoArray(s, so + 16 + p * VL);
        }
    }

    /**
     * Rows o0 and o0 + step with x, each decoding one super-block's scales at a time ({@link #scalesFolded}) into
     * {@code s[4·VL ..]} (row 0) and {@code s[4·VL + 32 ..]} (row 1); outputs c[ci] and c[ci + cs]. Two rows, not
     * four: the four-row tile exceeded C2's inlining node budget and, in a JVM that had run the other formats, was
     * compiled into boxing code (84 MB per 2048x8192 product); two FMA chains instead of one still lift the one-row
     * kernel's latency bound.
     *
     * <p>A code {@code q = (ql nibble) | (two qh bits) << 4} (0..63) is taken apart with one shift of the nibble
     * column (high nibbles only), one rotation of the qh column that brings bits 2g, 2g+1 to bits 4, 5 of each byte
     * (bits rotated across bytes or around the int land outside the mask 0x30), two masks and an or; the offset −32
     * is folded into the FMA that applies the scale ({@link #scalesFolded}). The same floats as the
     * subtract-then-multiply of {@link QuantDecode}, three operations fewer per 16 codes.
     */
    static void far2(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s, float[] c, int ci,
                     int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        long o1 = o0 + step;
        int sc = 4 * VL;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int sb = 0, n = k / 256; sb < n; sb++) {
            scalesFolded(w, o0 + 210L * sb, s, sc);        // decoded where read (see Q4KTiles)
            scalesFolded(w, o1 + 210L * sb, s, sc + 32);
            for (int h = 0; h < 2; h++) for (int g = 0; g < 4; g++) {
            for (int l0 = 0; l0 < 32; l0 += 16) {                      // codes of 128h + 32g + l0 .. + 16
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
            int j = sc + 8 * h + 2 * g + l0 / 16, xb = xo + 256 * sb + 128 * h + 32 * g + l0;
            FloatVector d0 = FloatVector.broadcast(F, s[j]), n0 = FloatVector.broadcast(F, s[j + 16]);
            FloatVector d1 = FloatVector.broadcast(F, s[j + 32]), n1 = FloatVector.broadcast(F, s[j + 48]);
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                FloatVector xv = FloatVector.fromArray(F, x, xb + p * VL);
                a0 = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, part)).fma(d0, n0).fma(xv, a0);
                a1 = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, part)).fma(d1, n1).fma(xv, a1);
            }
            }
            }
        }
        a0.intoArray(s, 0);
        a1.intoArray(s, VL);
        c[ci] = hsum(s, 0);
        c[ci + cs] = hsum(s, VL);
    }

    /** For the super-block at byte o: {@code s[so + i] = d·sc_i} (i &lt; 16), as {@link #scalesFolded} without −32. */
    static void scales(MemorySegment w, long o, float[] s, int so) {
        float d = f16(w, o + 208);
        ByteVector sc = ByteVector.fromMemorySegment(B, w, o + 192, LE);
        for (int p = 0; p < PARTS; p++) {
            int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
            ((FloatVector) sc.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(s, so + p * VL);
        }
    }

    /**
     * {@link #far2} for 512-bit float vectors (one vector per 16 codes, {@code PARTS == 1}): the same dequantized
     * floats folded in the same order, with fewer instructions around them. Run t (0..15) of a super-block is its
     * codes {@code 16t ..} (half t/8, group t/2 mod 4, 16-byte run t mod 2 of the columns), scale {@code d·sc_t}
     * and activations {@code x[256·sb + 16t ..]}; its nibble and qh columns are loaded as int lanes, and
     * {@code −32·d·sc_t} is the scalar product (exact, as {@link #scalesFolded}'s).
     *
     * <p>Shaped for C2's parse budget: one run of both rows per loop iteration, about 15 600 parse nodes through
     * the loop. Written out for both runs of a group with the qh columns loaded once per half, it measured faster
     * in a fresh JVM (BENCHMARKS.md section 26) but took about 38 000 nodes, twice C2's NodeCountInliningCutoff
     * (18 000; a develop flag, fixed in product JVMs): the Vector API calls parsed past it are inlined late,
     * devirtualized by the type profiles of the Vector API's own shared call sites, and in a JVM that had run much
     * other vector code (the tensor test suite) that code boxed its vectors, 0.7-1.3 MB per 512x512 product, 3-6x
     * slower ({@code PollutedDecodeProbe} in the tests).
     */
    static void far2Wide(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s, float[] c, int ci,
                         int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int sc = 4 * VL;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int sb = 0, n = k / 256; sb < n; sb++) {
            long b0 = o0 + 210L * sb, b1 = b0 + step;
            for (int r = 0; r < 2; r++) {
                scales(w, b0 + r * step, s, sc + 16 * r);        // decoded where read (see Q4KTiles)
            }
            int xb = xo + 256 * sb;
            for (int t = 0; t < 16; t++) {
                int h = t >> 3, g = (t >> 1) & 3, lo = 4 * (g >> 1), rot = 4 - 2 * g;
                long q = 64 * h + 32 * (g & 1) + 16 * (t & 1), qh = 128 + 32 * h + 16 * (t & 1);
                FloatVector xv = FloatVector.fromArray(F, x, xb + 16 * t);
                float d0 = s[sc + t], d1 = s[sc + 16 + t];
                ByteVector e0 = IntVector.fromMemorySegment(I4, w, b0 + q, LE).lanewise(VectorOperators.LSHR, lo)
                        .and(0x0F0F0F0F).or(IntVector.fromMemorySegment(I4, w, b0 + qh, LE)
                                .lanewise(VectorOperators.ROL, rot).and(0x30303030)).reinterpretAsBytes();
                ByteVector e1 = IntVector.fromMemorySegment(I4, w, b1 + q, LE).lanewise(VectorOperators.LSHR, lo)
                        .and(0x0F0F0F0F).or(IntVector.fromMemorySegment(I4, w, b1 + qh, LE)
                                .lanewise(VectorOperators.ROL, rot).and(0x30303030)).reinterpretAsBytes();
                a0 = ((FloatVector) e0.convertShape(VectorOperators.B2F, F, 0))
                        .fma(FloatVector.broadcast(F, d0), FloatVector.broadcast(F, -32f * d0)).fma(xv, a0);
                a1 = ((FloatVector) e1.convertShape(VectorOperators.B2F, F, 0))
                        .fma(FloatVector.broadcast(F, d1), FloatVector.broadcast(F, -32f * d1)).fma(xv, a1);
            }
        }
        a0.intoArray(s, 0);
        a1.intoArray(s, VL);
        c[ci] = hsum(s, 0);
        c[ci + cs] = hsum(s, VL);
    }

    /**
     * {@link #far2Wide} with both runs of a group written out and the qh columns loaded once per half (the tile
     * before issue #12's fix, selected by {@link TileDriver#COMPACT} = false): the same outputs, 5.2-5.6 GB/s
     * against far2's 4.3-4.6 (QuantKernelProbe, one thread, 2048x8192 / 8192x2048, in a JVM that ran Q8_0, Q4_0
     * and Q4_K first, BENCHMARKS.md section 26) when C2 compiles it whole, which it does not do reliably (see
     * {@link #far2Wide}).
     */
    static void far2WideUnrolled(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s, float[] c,
                                 int ci, int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int sc = 4 * VL;
        FloatVector a0 = FV.cast(FloatVector.zero(F)), a1 = a0;
        for (int sb = 0, n = k / 256; sb < n; sb++) {
            long b0 = o0 + 210L * sb, b1 = b0 + step;
            scalesFolded(w, b0, s, sc);        // decoded where read (see Q4KTiles)
            scalesFolded(w, b1, s, sc + 32);
            for (int h = 0; h < 2; h++) {
                long qh = 128 + 32 * h;
                IntVector h00 = IV4.cast(BV.cast(ByteVector.fromMemorySegment(B, w, b0 + qh, LE))
                        .reinterpretAsInts());
                IntVector h01 = IV4.cast(BV.cast(ByteVector.fromMemorySegment(B, w, b0 + qh + 16, LE))
                        .reinterpretAsInts());
                IntVector h10 = IV4.cast(BV.cast(ByteVector.fromMemorySegment(B, w, b1 + qh, LE))
                        .reinterpretAsInts());
                IntVector h11 = IV4.cast(BV.cast(ByteVector.fromMemorySegment(B, w, b1 + qh + 16, LE))
                        .reinterpretAsInts());
                for (int g = 0; g < 4; g++) {
                    long q = 64 * h + 32 * (g & 1);
                    int lo = 4 * (g >> 1), rot = 4 - 2 * g;
                    int j = sc + 8 * h + 2 * g, xb = xo + 256 * sb + 128 * h + 32 * g;
                    FloatVector d0 = FV.cast(FloatVector.broadcast(F, s[j]));
                    FloatVector n0 = FV.cast(FloatVector.broadcast(F, s[j + 16]));
                    FloatVector d1 = FV.cast(FloatVector.broadcast(F, s[j + 32]));
                    FloatVector n1 = FV.cast(FloatVector.broadcast(F, s[j + 48]));
                    FloatVector xv = FV.cast(FloatVector.fromArray(F, x, xb));
                    IntVector l00 = IV4.cast(BV.cast(ByteVector.fromMemorySegment(B, w, b0 + q, LE))
                            .reinterpretAsInts());
                    IntVector u00 = IV4.cast(IV4.cast(h00.lanewise(VectorOperators.ROL, rot)).and(0x30303030));
                    ByteVector e00 = BV.cast(IV4.cast(IV4.cast(IV4.cast(l00.lanewise(VectorOperators.LSHR, lo))
                            .and(0x0F0F0F0F)).or(u00)).reinterpretAsBytes());
                    a0 = FV.cast(FV.cast(FV.cast(e00.convertShape(VectorOperators.B2F, F, 0)).fma(d0, n0))
                            .fma(xv, a0));
                    IntVector l10 = IV4.cast(BV.cast(ByteVector.fromMemorySegment(B, w, b1 + q, LE))
                            .reinterpretAsInts());
                    IntVector u10 = IV4.cast(IV4.cast(h10.lanewise(VectorOperators.ROL, rot)).and(0x30303030));
                    ByteVector e10 = BV.cast(IV4.cast(IV4.cast(IV4.cast(l10.lanewise(VectorOperators.LSHR, lo))
                            .and(0x0F0F0F0F)).or(u10)).reinterpretAsBytes());
                    a1 = FV.cast(FV.cast(FV.cast(e10.convertShape(VectorOperators.B2F, F, 0)).fma(d1, n1))
                            .fma(xv, a1));
                    FloatVector d2 = FV.cast(FloatVector.broadcast(F, s[j + 1]));
                    FloatVector n2 = FV.cast(FloatVector.broadcast(F, s[j + 17]));
                    FloatVector d3 = FV.cast(FloatVector.broadcast(F, s[j + 33]));
                    FloatVector n3 = FV.cast(FloatVector.broadcast(F, s[j + 49]));
                    xv = FV.cast(FloatVector.fromArray(F, x, xb + 16));
                    IntVector l01 = IV4.cast(BV.cast(ByteVector.fromMemorySegment(B, w, b0 + q + 16, LE))
                            .reinterpretAsInts());
                    IntVector u01 = IV4.cast(IV4.cast(h01.lanewise(VectorOperators.ROL, rot)).and(0x30303030));
                    ByteVector e01 = BV.cast(IV4.cast(IV4.cast(IV4.cast(l01.lanewise(VectorOperators.LSHR, lo))
                            .and(0x0F0F0F0F)).or(u01)).reinterpretAsBytes());
                    a0 = FV.cast(FV.cast(FV.cast(e01.convertShape(VectorOperators.B2F, F, 0)).fma(d2, n2))
                            .fma(xv, a0));
                    IntVector l11 = IV4.cast(BV.cast(ByteVector.fromMemorySegment(B, w, b1 + q + 16, LE))
                            .reinterpretAsInts());
                    IntVector u11 = IV4.cast(IV4.cast(h11.lanewise(VectorOperators.ROL, rot)).and(0x30303030));
                    ByteVector e11 = BV.cast(IV4.cast(IV4.cast(IV4.cast(l11.lanewise(VectorOperators.LSHR, lo))
                            .and(0x0F0F0F0F)).or(u11)).reinterpretAsBytes());
                    a1 = FV.cast(FV.cast(FV.cast(e11.convertShape(VectorOperators.B2F, F, 0)).fma(d3, n3))
                            .fma(xv, a1));
                }
            }
        }
        a0.intoArray(s, 0);
        a1.intoArray(s, VL);
        c[ci] = hsum(s, 0);
        c[ci + cs] = hsum(s, VL);
    }

    /** One row at byte o with x, as {@link #far2}; decodes its scales into {@code s[4·VL ..]} itself. */
    static float one(MemorySegment seg, long o, int k, float[] x, int xo, float[] s) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int sc = 4 * VL;
        FloatVector acc = FloatVector.zero(F);
        for (int sb = 0, n = k / 256; sb < n; sb++) {
            scalesFolded(w, o + 210L * sb, s, sc);        // this super-block's scales, decoded where read
            for (int h = 0; h < 2; h++) for (int g = 0; g < 4; g++) {
            for (int l0 = 0; l0 < 32; l0 += 16) {                      // as in far2
            long q = o + 210L * sb + 64 * h + 32 * (g & 1) + l0, qh = o + 210L * sb + 128 + 32 * h + l0;
            ByteVector e = ByteVector.fromMemorySegment(B, w, q, LE).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHR, 4 * (g >> 1)).and(0x0F0F0F0F)
                    .or(ByteVector.fromMemorySegment(B, w, qh, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.ROL, 4 - 2 * g).and(0x30303030))
                    .reinterpretAsBytes();
            int j = sc + 8 * h + 2 * g + l0 / 16, xb = xo + 256 * sb + 128 * h + 32 * g + l0;
            FloatVector d = FloatVector.broadcast(F, s[j]), nd = FloatVector.broadcast(F, s[j + 16]);
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                acc = ((FloatVector) e.convertShape(VectorOperators.B2F, F, part)).fma(d, nd)
                        .fma(FloatVector.fromArray(F, x, xb + p * VL), acc);
            }
            }
            }
        }
        acc.intoArray(s, 0);
        return hsum(s, 0);
    }
}
