package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.BV;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.FV;
import static dev.interlayer.tensor.quant.vector.QSpecies.I;
import static dev.interlayer.tensor.quant.vector.QSpecies.I16;
import static dev.interlayer.tensor.quant.vector.QSpecies.IV;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.NATIVE;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.f16;
import static dev.interlayer.tensor.quant.vector.QSpecies.hsum;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Decode-time (m = 1) dot products of Q4_0 rows with F32 activations in block-scale form (the switch
 * {@code dev.interlayer.q4_0.blockscale}, {@link TileDriver}). With the unsigned codes q_i ∈ [0, 15] of a row,
 * block scales d_b (f16) and block sums {@code S_b = Σ_{i∈b} x_i}:
 * <pre>
 *   Σ_i d_b(i)·(q_i − 8)·x_i = Σ_b d_b·t_b − 8·Σ_b d_b·S_b,   t_b = Σ_{i∈b} q_i·x_i.
 * </pre>
 * Per block and row, t_b is two FMAs per VL codes (the low nibbles of the 16 bytes are elements 0..15, the high
 * ones 16..31; see XH below) and the scale is applied once, {@code acc = fma(t_b, d_b, acc)}; the offset's term is
 * one scalar FMA per block and row, with S_b computed once per activation vector ({@link #blockSums}) for all rows.
 * The dequantizing tiles ({@link Block32Tiles}) spend an FMA per VL codes on {@code d·q − 8d}, a shift on the high
 * nibble and broadcast two scales per block. The same factoring as ggml's Q4_0 × Q8_0 dot product (integer there).
 * Decode takes eight rows per tile ({@link #far8}); the four-row form was no faster than the dequantizing tile.
 *
 * <p>Not the floats of {@link QuantDecode}: the rounding error is bounded by
 * {@code Σ_b |d_b|·Σ_i (q_i + 8)·|x_i|} times a few k·ε rather than by the dequantized products, because the
 * two terms cancel where q_i is near 8. Batched decode (1 &lt; m ≤ 16) has its tile here too ({@link #w2x4}),
 * computing each output by the same sequence, so every row of a batch stays bit for bit its decode.
 */
final class Q40ScaleTiles {
    /*
     * XH: with u the whole byte (lo + 16·hi, widened unsigned), lo·xl + hi·xh = lo·(xl − xh/16) + u·(xh/16): the
     * high nibble needs no shift, and the two activation terms are computed once per block for all rows of a tile
     * (xh/16 is exact barring underflow; every tile computes xl − xh/16 by the same operation, so the floats agree).
     */

    /** Offset of the block sums S_b in the tile scratch (after {@link TileDriver}'s eight rows of lanes). */
    static final int SUMS = 8 * VL;
    /** Blocks of {@link #far8}'s rows between its visits to the other rows. */
    private static final int CHUNK = 32;

    private Q40ScaleTiles() {
    }

    /** {@code s[so + b] = Σ x[xo + 32b .. xo + 32b + 32)} in one fixed order (lane-wise adds, then hsum). */
    static void blockSums(int k, float[] x, int xo, float[] s, int so) {
        for (int b = 0, nb = k / 32; b < nb; b++, xo += 32) {
            FloatVector t = FloatVector.fromArray(F, x, xo);
            for (int p = 1; p < 32 / VL; p++) {
                t = t.add(FloatVector.fromArray(F, x, xo + p * VL));
            }
            t.intoArray(s, 0);
            s[so + b] = hsum(s, 0);
        }
    }

    /**
     * Rows o0 + r·step (r &lt; 8) with x, the block sums of x at {@code s[SUMS ..]}; outputs c[ci + r·cs]. Eight
     * read streams (as Q8_0's tile: 1.2-1.4x the four-row form of this tile, see {@link TileDriver}).
     *
     * <p>Shaped for C2's parse budget: the activation terms of every block are computed once into scratch (after
     * the block sums and eight offset sums, {@link TileDriver#scratch}); then, for {@link #CHUNK} blocks at a
     * time, the rows in pairs, each pair's two vector and two scalar accumulators in registers over the chunk and
     * in scratch between chunks. About 15 400 parse nodes through the loop. Written out for eight rows it was
     * about 55 000, three times C2's NodeCountInliningCutoff (18 000; a develop flag, fixed in product JVMs): the
     * Vector API calls parsed past it are inlined late, devirtualized by the type profiles of the Vector API's own
     * shared call sites, and in a JVM that had run much other vector code (the tensor test suite) that code boxed
     * its vectors, 1.1-1.4 MB per 512x512 product, 3-7x slower ({@code PollutedDecodeProbe} in the tests).
     */
    static void far8(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s, float[] c, int ci,
                     int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int nb = k / 32, g = SUMS + nb, t = g + 8;
        activationTerms(k, x, xo, s, t);
        Arrays.fill(s, 0, 8 * VL, 0f);
        Arrays.fill(s, g, g + 8, 0f);
        FloatVector z = FloatVector.zero(F);
        for (int c0 = 0; c0 < nb; c0 += CHUNK) {
            int c1 = Math.min(nb, c0 + CHUNK);
            for (int r = 0; r < 8; r += 2) {
                long oa = o0 + r * step, ob = oa + step;
                FloatVector a0 = FloatVector.fromArray(F, s, r * VL), a1 = FloatVector.fromArray(F, s, r * VL + VL);
                float g0 = s[g + r], g1 = s[g + r + 1];
                for (int b = c0; b < c1; b++) {
                    long bo = 18L * b;
                    float e0 = f16(w, oa + bo), e1 = f16(w, ob + bo), sb = s[SUMS + b];
                    g0 = Math.fma(e0, sb, g0);
                    g1 = Math.fma(e1, sb, g1);
                    ByteVector v0 = ByteVector.fromMemorySegment(B, w, oa + bo + 2, LE);
                    ByteVector v1 = ByteVector.fromMemorySegment(B, w, ob + bo + 2, LE);
                    FloatVector t0 = z, t1 = z;
                    for (int p = 0; p < PARTS; p++) {
                        int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                        int tp = t + 32 * b + p * VL;
                        FloatVector xl = FloatVector.fromArray(F, s, tp), xh = FloatVector.fromArray(F, s, tp + 16);
                        IntVector u0 = (IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                        IntVector u1 = (IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                        t0 = ((FloatVector) u0.convert(VectorOperators.I2F, 0)).fma(xh,
                                ((FloatVector) u0.and(15).convert(VectorOperators.I2F, 0)).fma(xl, t0));
                        t1 = ((FloatVector) u1.convert(VectorOperators.I2F, 0)).fma(xh,
                                ((FloatVector) u1.and(15).convert(VectorOperators.I2F, 0)).fma(xl, t1));
                    }
                    a0 = t0.fma(FloatVector.broadcast(F, e0), a0);
                    a1 = t1.fma(FloatVector.broadcast(F, e1), a1);
                }
                a0.intoArray(s, r * VL);
                a1.intoArray(s, r * VL + VL);
                s[g + r] = g0;
                s[g + r + 1] = g1;
            }
        }
        for (int r = 0; r < 8; r++) {
            c[ci + r * cs] = Math.fma(-8f, s[g + r], hsum(s, r * VL));
        }
    }

    /** The XH activation terms of every block, xl − xh/16 and xh/16, into {@code s[t ..]} (see {@link #far8}). */
    private static void activationTerms(int k, float[] x, int xo, float[] s, int t) {
        for (int b = 0, nb = k / 32; b < nb; b++) {
            for (int p = 0; p < PARTS; p++) {
                int xp = xo + 32 * b + p * VL, tp = t + 32 * b + p * VL;
                FloatVector xh = FloatVector.fromArray(F, x, xp + 16).mul(0.0625f);       // see XH
                FloatVector.fromArray(F, x, xp).sub(xh).intoArray(s, tp);
                xh.intoArray(s, tp + 16);
            }
        }
    }

    /**
     * {@link #far8} with the rows four at a time ({@code dev.interlayer.q4_0.tile=quads}, {@link TileDriver#Q4_0_TILE}):
     * the same outputs bit for bit (each row's operations in the same order). Each four-row group and chunk is one
     * call of {@link #quad}, too large for C2 to inline (903 bytes of bytecode, past FreqInlineSize), so it is
     * compiled on its own and its parse nodes do not add to this method's. The x loads are shared by four rows
     * instead of two: on Zen 5 (one thread, weights past the LLC, QuantKernelProbe, load 12-13) 9.6-10.0 GB/s against
     * 5.7-7.1 for {@link #far8} and 10.8-12.0 for {@link #far8Unrolled}. Caveat: {@code quad} itself parses to about
     * 26 400 nodes (LogCompilation, tier 4), past C2's 18 000 cutoff, so the Vector API calls after it are inlined
     * late, the mechanism by which {@link #far8Unrolled} boxes; in {@code PollutedDecodeProbe}'s polluted JVM it
     * allocated 0 B/call (far8Unrolled 1.27 MB/call in the same JVM), and {@code QuantDecodeAllocationTest} checks
     * it in the suite's JVM.
     */
    static void far8Quads(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s, float[] c,
                          int ci, int cs) {
        int nb = k / 32, g = SUMS + nb, t = g + 8;
        activationTerms(k, x, xo, s, t);
        Arrays.fill(s, 0, 8 * VL, 0f);
        Arrays.fill(s, g, g + 8, 0f);
        for (int c0 = 0; c0 < nb; c0 += CHUNK) {
            int c1 = Math.min(nb, c0 + CHUNK);
            quad(seg, o0, step, c0, c1, s, t, g, 0);
            quad(seg, o0 + 4 * step, step, c0, c1, s, t, g, 4);
        }
        for (int r = 0; r < 8; r++) {
            c[ci + r * cs] = Math.fma(-8f, s[g + r], hsum(s, r * VL));
        }
    }

    /** Blocks [c0, c1) of rows o + i·step (i &lt; 4), tile rows r .. r + 3 of {@link #far8Quads}. */
    private static void quad(MemorySegment seg, long o, long step, int c0, int c1, float[] s, int t, int g, int r) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        long oa = o, ob = oa + step, oc = ob + step, od = oc + step;
        FloatVector z = FV.cast(FloatVector.zero(F));
        FloatVector a0 = FV.cast(FloatVector.fromArray(F, s, r * VL));
        FloatVector a1 = FV.cast(FloatVector.fromArray(F, s, r * VL + VL));
        FloatVector a2 = FV.cast(FloatVector.fromArray(F, s, r * VL + 2 * VL));
        FloatVector a3 = FV.cast(FloatVector.fromArray(F, s, r * VL + 3 * VL));
        float g0 = s[g + r], g1 = s[g + r + 1], g2 = s[g + r + 2], g3 = s[g + r + 3];
        for (int b = c0; b < c1; b++) {
            long bo = 18L * b;
            float e0 = Float.float16ToFloat(w.get(I16, oa + bo)), e1 = Float.float16ToFloat(w.get(I16, ob + bo));
            float e2 = Float.float16ToFloat(w.get(I16, oc + bo)), e3 = Float.float16ToFloat(w.get(I16, od + bo));
            float sb = s[SUMS + b];
            g0 = Math.fma(e0, sb, g0);
            g1 = Math.fma(e1, sb, g1);
            g2 = Math.fma(e2, sb, g2);
            g3 = Math.fma(e3, sb, g3);
            ByteVector v0 = BV.cast(ByteVector.fromMemorySegment(B, w, oa + bo + 2, LE));
            ByteVector v1 = BV.cast(ByteVector.fromMemorySegment(B, w, ob + bo + 2, LE));
            ByteVector v2 = BV.cast(ByteVector.fromMemorySegment(B, w, oc + bo + 2, LE));
            ByteVector v3 = BV.cast(ByteVector.fromMemorySegment(B, w, od + bo + 2, LE));
            FloatVector t0 = z, t1 = z, t2 = z, t3 = z;
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                int tp = t + 32 * b + p * VL;
                FloatVector xl = FV.cast(FloatVector.fromArray(F, s, tp));
                FloatVector xh = FV.cast(FloatVector.fromArray(F, s, tp + 16));
                IntVector u0 = IV.cast(v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u1 = IV.cast(v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u2 = IV.cast(v2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u3 = IV.cast(v3.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                t0 = FV.cast(FV.cast(u0.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u0.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t0))));
                t1 = FV.cast(FV.cast(u1.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u1.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t1))));
                t2 = FV.cast(FV.cast(u2.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u2.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t2))));
                t3 = FV.cast(FV.cast(u3.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u3.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t3))));
            }
            a0 = FV.cast(t0.fma(FV.cast(FloatVector.broadcast(F, e0)), a0));
            a1 = FV.cast(t1.fma(FV.cast(FloatVector.broadcast(F, e1)), a1));
            a2 = FV.cast(t2.fma(FV.cast(FloatVector.broadcast(F, e2)), a2));
            a3 = FV.cast(t3.fma(FV.cast(FloatVector.broadcast(F, e3)), a3));
        }
        a0.intoArray(s, r * VL);
        a1.intoArray(s, r * VL + VL);
        a2.intoArray(s, r * VL + 2 * VL);
        a3.intoArray(s, r * VL + 3 * VL);
        s[g + r] = g0;
        s[g + r + 1] = g1;
        s[g + r + 2] = g2;
        s[g + r + 3] = g3;
    }

    /**
     * {@link #far8} written out for the eight rows, each row's accumulators in registers (the tile before issue
     * #12's fix; now {@code dev.interlayer.q4_0.tile=unrolled} or {@link TileDriver#COMPACT} = false, see
     * {@link TileDriver#Q4_0_TILE} for why not the default): the same outputs; faster when C2 compiles it
     * whole, which it did not do reliably (see {@link #far8}) until its vectors were cast to their exact classes
     * ({@link QSpecies#FV}; the scale read inline for the same reason as in {@link Q80Tiles#eight}).
     */
    static void far8Unrolled(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s, float[] c,
                             int ci, int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        long o1 = o0 + step, o2 = o1 + step, o3 = o2 + step, o4 = o3 + step, o5 = o4 + step, o6 = o5 + step;
        long o7 = o6 + step;
        FloatVector z = FV.cast(FloatVector.zero(F)), a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        float g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0;
        for (int b = 0, nb = k / 32; b < nb; b++, xo += 32) {
            long bo = 18L * b;
            float e0 = Float.float16ToFloat(w.get(I16, o0 + bo));        // not f16(): see Q80Tiles.eight
            float e1 = Float.float16ToFloat(w.get(I16, o1 + bo));
            float e2 = Float.float16ToFloat(w.get(I16, o2 + bo));
            float e3 = Float.float16ToFloat(w.get(I16, o3 + bo));
            float e4 = Float.float16ToFloat(w.get(I16, o4 + bo));
            float e5 = Float.float16ToFloat(w.get(I16, o5 + bo));
            float e6 = Float.float16ToFloat(w.get(I16, o6 + bo));
            float e7 = Float.float16ToFloat(w.get(I16, o7 + bo));
            float sb = s[SUMS + b];
            g0 = Math.fma(e0, sb, g0);
            g1 = Math.fma(e1, sb, g1);
            g2 = Math.fma(e2, sb, g2);
            g3 = Math.fma(e3, sb, g3);
            g4 = Math.fma(e4, sb, g4);
            g5 = Math.fma(e5, sb, g5);
            g6 = Math.fma(e6, sb, g6);
            g7 = Math.fma(e7, sb, g7);
            ByteVector v0 = BV.cast(ByteVector.fromMemorySegment(B, w, o0 + bo + 2, LE));
            ByteVector v1 = BV.cast(ByteVector.fromMemorySegment(B, w, o1 + bo + 2, LE));
            ByteVector v2 = BV.cast(ByteVector.fromMemorySegment(B, w, o2 + bo + 2, LE));
            ByteVector v3 = BV.cast(ByteVector.fromMemorySegment(B, w, o3 + bo + 2, LE));
            ByteVector v4 = BV.cast(ByteVector.fromMemorySegment(B, w, o4 + bo + 2, LE));
            ByteVector v5 = BV.cast(ByteVector.fromMemorySegment(B, w, o5 + bo + 2, LE));
            ByteVector v6 = BV.cast(ByteVector.fromMemorySegment(B, w, o6 + bo + 2, LE));
            ByteVector v7 = BV.cast(ByteVector.fromMemorySegment(B, w, o7 + bo + 2, LE));
            FloatVector t0 = z, t1 = z, t2 = z, t3 = z, t4 = z, t5 = z, t6 = z, t7 = z;
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                FloatVector xh = FV.cast(FV.cast(FloatVector.fromArray(F, x, xo + 16 + p * VL)).mul(0.0625f)); // XH
                FloatVector xl = FV.cast(FV.cast(FloatVector.fromArray(F, x, xo + p * VL)).sub(xh));
                IntVector u0 = IV.cast(v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u1 = IV.cast(v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u2 = IV.cast(v2.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u3 = IV.cast(v3.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u4 = IV.cast(v4.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u5 = IV.cast(v5.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u6 = IV.cast(v6.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                IntVector u7 = IV.cast(v7.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part));
                t0 = FV.cast(FV.cast(u0.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u0.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t0))));
                t1 = FV.cast(FV.cast(u1.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u1.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t1))));
                t2 = FV.cast(FV.cast(u2.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u2.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t2))));
                t3 = FV.cast(FV.cast(u3.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u3.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t3))));
                t4 = FV.cast(FV.cast(u4.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u4.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t4))));
                t5 = FV.cast(FV.cast(u5.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u5.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t5))));
                t6 = FV.cast(FV.cast(u6.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u6.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t6))));
                t7 = FV.cast(FV.cast(u7.convert(VectorOperators.I2F, 0)).fma(xh, FV.cast(FV.cast(IV.cast(u7.and(15))
                        .convert(VectorOperators.I2F, 0)).fma(xl, t7))));
            }
            a0 = FV.cast(t0.fma(FV.cast(FloatVector.broadcast(F, e0)), a0));
            a1 = FV.cast(t1.fma(FV.cast(FloatVector.broadcast(F, e1)), a1));
            a2 = FV.cast(t2.fma(FV.cast(FloatVector.broadcast(F, e2)), a2));
            a3 = FV.cast(t3.fma(FV.cast(FloatVector.broadcast(F, e3)), a3));
            a4 = FV.cast(t4.fma(FV.cast(FloatVector.broadcast(F, e4)), a4));
            a5 = FV.cast(t5.fma(FV.cast(FloatVector.broadcast(F, e5)), a5));
            a6 = FV.cast(t6.fma(FV.cast(FloatVector.broadcast(F, e6)), a6));
            a7 = FV.cast(t7.fma(FV.cast(FloatVector.broadcast(F, e7)), a7));
        }
        a0.intoArray(s, 0);
        a1.intoArray(s, VL);
        a2.intoArray(s, 2 * VL);
        a3.intoArray(s, 3 * VL);
        a4.intoArray(s, 4 * VL);
        a5.intoArray(s, 5 * VL);
        a6.intoArray(s, 6 * VL);
        a7.intoArray(s, 7 * VL);
        c[ci] = Math.fma(-8f, g0, hsum(s, 0));
        c[ci + cs] = Math.fma(-8f, g1, hsum(s, VL));
        c[ci + 2 * cs] = Math.fma(-8f, g2, hsum(s, 2 * VL));
        c[ci + 3 * cs] = Math.fma(-8f, g3, hsum(s, 3 * VL));
        c[ci + 4 * cs] = Math.fma(-8f, g4, hsum(s, 4 * VL));
        c[ci + 5 * cs] = Math.fma(-8f, g5, hsum(s, 5 * VL));
        c[ci + 6 * cs] = Math.fma(-8f, g6, hsum(s, 6 * VL));
        c[ci + 7 * cs] = Math.fma(-8f, g7, hsum(s, 7 * VL));
    }

    /**
     * Batched decode: weight rows o0, o1 × activation rows at a[x0 ..], .., a[x3 ..] (repeated rows at the edges),
     * whose block sums are at s[s0 ..], .., s[s3 ..]; outputs c[ci + i·ldc + r] for r &lt; nr, i &lt; mr. Each output
     * is the sequence of {@link #far8} and {@link #one}, so every row of a batch is bit for bit its decode. Eight
     * vector FMA chains and eight scalar ones; each weight vector is widened and converted once for four rows.
     */
    static void w2x4(MemorySegment seg, long o0, long o1, int k, float[] a, int x0, int x1, int x2, int x3, float[] s,
                     int s0, int s1, int s2, int s3, float[] c, int ci, int ldc, int nr, int mr) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector z = FloatVector.zero(F), a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        float g00 = 0, g01 = 0, g02 = 0, g03 = 0, g10 = 0, g11 = 0, g12 = 0, g13 = 0;
        for (int b = 0, nb = k / 32; b < nb; b++) {
            long bo = 18L * b;
            float e0 = f16(w, o0 + bo), e1 = f16(w, o1 + bo);
            float sb0 = s[s0 + b], sb1 = s[s1 + b], sb2 = s[s2 + b], sb3 = s[s3 + b];
            g00 = Math.fma(e0, sb0, g00);
            g01 = Math.fma(e0, sb1, g01);
            g02 = Math.fma(e0, sb2, g02);
            g03 = Math.fma(e0, sb3, g03);
            g10 = Math.fma(e1, sb0, g10);
            g11 = Math.fma(e1, sb1, g11);
            g12 = Math.fma(e1, sb2, g12);
            g13 = Math.fma(e1, sb3, g13);
            ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + bo + 2, LE);
            ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + bo + 2, LE);
            FloatVector t00 = z, t01 = z, t02 = z, t03 = z, t10 = z, t11 = z, t12 = z, t13 = z;
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                int xp = 32 * b + p * VL;
                IntVector u0 = (IntVector) v0.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                IntVector u1 = (IntVector) v1.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                FloatVector l0 = (FloatVector) u0.and(15).convert(VectorOperators.I2F, 0);
                FloatVector l1 = (FloatVector) u1.and(15).convert(VectorOperators.I2F, 0);
                FloatVector h0 = (FloatVector) u0.convert(VectorOperators.I2F, 0);
                FloatVector h1 = (FloatVector) u1.convert(VectorOperators.I2F, 0);
                FloatVector xh = FloatVector.fromArray(F, a, x0 + xp + 16).mul(0.0625f);       // see XH
                FloatVector xl = FloatVector.fromArray(F, a, x0 + xp).sub(xh);
                t00 = h0.fma(xh, l0.fma(xl, t00));
                t10 = h1.fma(xh, l1.fma(xl, t10));
                xh = FloatVector.fromArray(F, a, x1 + xp + 16).mul(0.0625f);
                xl = FloatVector.fromArray(F, a, x1 + xp).sub(xh);
                t01 = h0.fma(xh, l0.fma(xl, t01));
                t11 = h1.fma(xh, l1.fma(xl, t11));
                xh = FloatVector.fromArray(F, a, x2 + xp + 16).mul(0.0625f);
                xl = FloatVector.fromArray(F, a, x2 + xp).sub(xh);
                t02 = h0.fma(xh, l0.fma(xl, t02));
                t12 = h1.fma(xh, l1.fma(xl, t12));
                xh = FloatVector.fromArray(F, a, x3 + xp + 16).mul(0.0625f);
                xl = FloatVector.fromArray(F, a, x3 + xp).sub(xh);
                t03 = h0.fma(xh, l0.fma(xl, t03));
                t13 = h1.fma(xh, l1.fma(xl, t13));
            }
            FloatVector d0 = FloatVector.broadcast(F, e0), d1 = FloatVector.broadcast(F, e1);
            a00 = t00.fma(d0, a00);
            a01 = t01.fma(d0, a01);
            a02 = t02.fma(d0, a02);
            a03 = t03.fma(d0, a03);
            a10 = t10.fma(d1, a10);
            a11 = t11.fma(d1, a11);
            a12 = t12.fma(d1, a12);
            a13 = t13.fma(d1, a13);
        }
        a00.intoArray(s, 0);
        a01.intoArray(s, VL);
        a02.intoArray(s, 2 * VL);
        a03.intoArray(s, 3 * VL);
        a10.intoArray(s, 4 * VL);
        a11.intoArray(s, 5 * VL);
        a12.intoArray(s, 6 * VL);
        a13.intoArray(s, 7 * VL);
        for (int r = 0; r < nr; r++) {                 // written out: an array of the g's would be allocated
            int o = ci + r, l = 4 * r * VL;
            c[o] = Math.fma(-8f, r == 0 ? g00 : g10, hsum(s, l));
            if (mr > 1) {
                c[o + ldc] = Math.fma(-8f, r == 0 ? g01 : g11, hsum(s, l + VL));
            }
            if (mr > 2) {
                c[o + 2 * ldc] = Math.fma(-8f, r == 0 ? g02 : g12, hsum(s, l + 2 * VL));
            }
            if (mr > 3) {
                c[o + 3 * ldc] = Math.fma(-8f, r == 0 ? g03 : g13, hsum(s, l + 3 * VL));
            }
        }
    }

    /** One row at byte o with x, as {@link #far8}. */
    static float one(MemorySegment seg, long o, int k, float[] x, int xo, float[] s) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector z = FloatVector.zero(F), acc = z;
        float g = 0;
        for (int b = 0, nb = k / 32; b < nb; b++, o += 18, xo += 32) {
            float e = f16(w, o);
            g = Math.fma(e, s[SUMS + b], g);
            ByteVector v = ByteVector.fromMemorySegment(B, w, o + 2, LE);
            FloatVector t = z;
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                IntVector u = (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                FloatVector xh = FloatVector.fromArray(F, x, xo + 16 + p * VL).mul(0.0625f);     // see XH
                FloatVector xl = FloatVector.fromArray(F, x, xo + p * VL).sub(xh);
                t = ((FloatVector) u.convert(VectorOperators.I2F, 0)).fma(xh,
                        ((FloatVector) u.and(15).convert(VectorOperators.I2F, 0)).fma(xl, t));
            }
            acc = t.fma(FloatVector.broadcast(F, e), acc);
        }
        acc.intoArray(s, 0);
        return Math.fma(-8f, g, hsum(s, 0));
    }
}
