package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.BV;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.I16;
import static dev.interlayer.tensor.quant.vector.QSpecies.FV;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.NATIVE;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.f16;
import static dev.interlayer.tensor.quant.vector.QSpecies.hsum;
import static jdk.incubator.vector.VectorOperators.B2F;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 decode tiles (34-byte blocks: f16 scale d, then 32 signed codes q) with the block scale applied once per
 * block:
 * <pre>
 *   Σ_i d_b(i)·q_i·x_i = Σ_b d_b·t_b,   t_b = Σ_{i∈b} q_i·x_i,
 * </pre>
 * t_b by FMAs from zero over the block's VL-value parts in element order, then {@code acc = fma(t_b, d_b, acc)}, then
 * {@link QSpecies#hsum}: one multiply per VL codes fewer than the dequantizing tile ({@link Block32Tiles#q8_0Far8},
 * {@code d·q} then an FMA; kept behind {@link TileDriver#Q8_0_SCALE}). Batched decode ({@link #scaleW2x4})
 * computes each output by the same sequence, so every row of a batch stays bit for bit its decode. The rounding
 * error is that of a dot product of length k plus one rounding per block (each q·x is exact inside its FMA), not the
 * dequantized floats' (what {@code QuantDecode} writes).
 *
 * <p>Shaped for C2's parse budget: eight rows {@code step} bytes apart (eight read streams, as the dequantizing
 * tile), taken four at a time over {@link #CHUNK} blocks, each four-row group's accumulators in registers over a
 * chunk and in scratch between chunks. Written out for eight rows, the dequantizing tile parsed to about 18 700
 * nodes, past C2's NodeCountInliningCutoff (18 000, a develop flag): the Vector API calls parsed after it are
 * inlined late through the type profiles of the Vector API's shared call sites, which in a JVM that ran much other
 * vector code boxes every vector. Measured ({@code QuantKernelProbe}, one thread, weights past the last-level
 * cache, thread CPU time, load 6-7): 11.3-11.7 GB/s at 8192x2048 and 11.5-11.7 at 2048x8192, against 9.3-9.4 and
 * 12.0-12.1 for the written-out dequantizing tile; the dequantizing arithmetic in this compact shape ran 8.8-9.6 at
 * both. Chunks of 8, 32 and 64 blocks: 10.5-10.9, 10.6, 9.3.
 */
final class Q80Tiles {
    /** Blocks of a four-row group between its visits to the other four rows. */
    static final int CHUNK = Math.max(1, Integer.getInteger("dev.interlayer.q8_0.chunk", 16));

    private Q80Tiles() {
    }

    /**
     * Rows o0 + r·step (r &lt; 8) with x: leaves row r's accumulator lanes in {@code s[r·VL, (r + 1)·VL)} (held
     * there between chunks too), whose {@link QSpecies#hsum} is the output {@code Σ_b d_b·t_b} (see the class
     * comment). The caller takes the sums: they would cost this method about 4 000 of its parse nodes.
     */
    static void scaleFar8(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int nb = k / 32;
        Arrays.fill(s, 0, 8 * VL, 0f);
        FloatVector z = FloatVector.zero(F);
        for (int c0 = 0; c0 < nb; c0 += CHUNK) {
            int c1 = Math.min(nb, c0 + CHUNK);
            for (int r = 0; r < 8; r += 4) {
                long oa = o0 + r * step, ob = oa + step, oc = ob + step, od = oc + step;
                FloatVector a0 = FloatVector.fromArray(F, s, r * VL), a1 = FloatVector.fromArray(F, s, r * VL + VL);
                FloatVector a2 = FloatVector.fromArray(F, s, r * VL + 2 * VL);
                FloatVector a3 = FloatVector.fromArray(F, s, r * VL + 3 * VL);
                for (int b = c0; b < c1; b++) {
                    long bo = 34L * b;
                    FloatVector t0 = z, t1 = z, t2 = z, t3 = z;
                    for (int half = 0; half < 2; half++) {
                        long q = bo + 2 + 16 * half;
                        ByteVector v0 = ByteVector.fromMemorySegment(B, w, oa + q, LE);
                        ByteVector v1 = ByteVector.fromMemorySegment(B, w, ob + q, LE);
                        ByteVector v2 = ByteVector.fromMemorySegment(B, w, oc + q, LE);
                        ByteVector v3 = ByteVector.fromMemorySegment(B, w, od + q, LE);
                        for (int p = 0; p < PARTS; p++) {
                            int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                            FloatVector xv = FloatVector.fromArray(F, x, xo + 32 * b + 16 * half + p * VL);
                            t0 = ((FloatVector) v0.convertShape(VectorOperators.B2F, F, part)).fma(xv, t0);
                            t1 = ((FloatVector) v1.convertShape(VectorOperators.B2F, F, part)).fma(xv, t1);
                            t2 = ((FloatVector) v2.convertShape(VectorOperators.B2F, F, part)).fma(xv, t2);
                            t3 = ((FloatVector) v3.convertShape(VectorOperators.B2F, F, part)).fma(xv, t3);
                        }
                    }
                    a0 = t0.fma(FloatVector.broadcast(F, f16(w, oa + bo)), a0);
                    a1 = t1.fma(FloatVector.broadcast(F, f16(w, ob + bo)), a1);
                    a2 = t2.fma(FloatVector.broadcast(F, f16(w, oc + bo)), a2);
                    a3 = t3.fma(FloatVector.broadcast(F, f16(w, od + bo)), a3);
                }
                a0.intoArray(s, r * VL);
                a1.intoArray(s, r * VL + VL);
                a2.intoArray(s, r * VL + 2 * VL);
                a3.intoArray(s, r * VL + 3 * VL);
            }
        }
    }

    /**
     * Rows o0 + r·step (r &lt; 8) with x, 512-bit vectors only ({@code VL == 16}): the sequence of {@link #scaleFar8}
     * (bit for bit, see below) with all eight rows advancing one block per iteration, so that each x vector is loaded
     * once for eight rows, the eight read streams move together, and the accumulators stay in registers over the whole
     * row. Leaves row r's accumulator lanes in {@code s[r·VL, (r + 1)·VL)} as {@link #scaleFar8} does.
     *
     * <p>{@code t = q·x} by a multiply instead of an FMA on zero: the two differ only in the sign of an exact zero
     * ({@code fma(q, x, +0)} is +0 where {@code q·x} is −0), that sign survives into t only where both of a lane's
     * products are zero, and the accumulator, which starts at +0 and only ever adds, cannot become −0 (an exact zero
     * sum of two terms is +0 unless both are −0), so {@code acc + t·d} is the same float either way.
     *
     * <p>Written out, past C2's parse budget: this method parses to about 37 000 nodes (NodeCountInliningCutoff is
     * 18 000), so the Vector API calls met after the cutoff are inlined late. Every vector is therefore cast to its
     * exact class ({@link QSpecies#FV}, {@link QSpecies#BV}), so that a late call binds to that class's method
     * instead of going through a shared, possibly megamorphic type profile (without the casts, 350 KB per 512x512
     * product in {@code PollutedDecodeProbe}; with them 0). Chunked forms that stay
     * under the budget ran slower: two four-row methods alternating over 16-block chunks (the shape of
     * {@link #scaleFar8}) lost 20-40 % to per-chunk loop set-up and, past the last-level cache, to four streams at a
     * time; one four-row method over whole rows (17 300 nodes) matched this one in the cache but ran 0.8x of it on
     * weights from memory. The scale is read with {@code Float.float16ToFloat} here rather than {@link QSpecies#f16}:
     * past the budget C2 no longer inlines that small method, and a call in the loop spills every vector register.
     */
    static void eight(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector z = FV.cast(FloatVector.zero(F)), a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        long o1 = o0 + step, o2 = o1 + step, o3 = o2 + step, o4 = o3 + step, o5 = o4 + step, o6 = o5 + step;
        long o7 = o6 + step;
        for (int b = 0, nb = k / 32; b < nb; b++) {
            long bo = 34L * b;
            FloatVector x0 = FV.cast(FloatVector.fromArray(F, x, xo + 32 * b));
            FloatVector x1 = FV.cast(FloatVector.fromArray(F, x, xo + 32 * b + 16));
            FloatVector t0 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o0 + bo + 2, LE))
                    .convertShape(B2F, F, 0)).mul(x0));
            t0 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o0 + bo + 18, LE))
                    .convertShape(B2F, F, 0)).fma(x1, t0));
            a0 = FV.cast(t0.fma(FV.cast(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o0 + bo)))),
                    a0));
            FloatVector t1 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o1 + bo + 2, LE))
                    .convertShape(B2F, F, 0)).mul(x0));
            t1 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o1 + bo + 18, LE))
                    .convertShape(B2F, F, 0)).fma(x1, t1));
            a1 = FV.cast(t1.fma(FV.cast(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o1 + bo)))),
                    a1));
            FloatVector t2 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o2 + bo + 2, LE))
                    .convertShape(B2F, F, 0)).mul(x0));
            t2 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o2 + bo + 18, LE))
                    .convertShape(B2F, F, 0)).fma(x1, t2));
            a2 = FV.cast(t2.fma(FV.cast(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o2 + bo)))),
                    a2));
            FloatVector t3 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o3 + bo + 2, LE))
                    .convertShape(B2F, F, 0)).mul(x0));
            t3 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o3 + bo + 18, LE))
                    .convertShape(B2F, F, 0)).fma(x1, t3));
            a3 = FV.cast(t3.fma(FV.cast(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o3 + bo)))),
                    a3));
            FloatVector t4 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o4 + bo + 2, LE))
                    .convertShape(B2F, F, 0)).mul(x0));
            t4 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o4 + bo + 18, LE))
                    .convertShape(B2F, F, 0)).fma(x1, t4));
            a4 = FV.cast(t4.fma(FV.cast(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o4 + bo)))),
                    a4));
            FloatVector t5 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o5 + bo + 2, LE))
                    .convertShape(B2F, F, 0)).mul(x0));
            t5 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o5 + bo + 18, LE))
                    .convertShape(B2F, F, 0)).fma(x1, t5));
            a5 = FV.cast(t5.fma(FV.cast(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o5 + bo)))),
                    a5));
            FloatVector t6 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o6 + bo + 2, LE))
                    .convertShape(B2F, F, 0)).mul(x0));
            t6 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o6 + bo + 18, LE))
                    .convertShape(B2F, F, 0)).fma(x1, t6));
            a6 = FV.cast(t6.fma(FV.cast(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o6 + bo)))),
                    a6));
            FloatVector t7 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o7 + bo + 2, LE))
                    .convertShape(B2F, F, 0)).mul(x0));
            t7 = FV.cast(FV.cast(BV.cast(ByteVector.fromMemorySegment(B, w, o7 + bo + 18, LE))
                    .convertShape(B2F, F, 0)).fma(x1, t7));
            a7 = FV.cast(t7.fma(FV.cast(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o7 + bo)))),
                    a7));
        }
        a0.intoArray(s, 0 * VL);
        a1.intoArray(s, 1 * VL);
        a2.intoArray(s, 2 * VL);
        a3.intoArray(s, 3 * VL);
        a4.intoArray(s, 4 * VL);
        a5.intoArray(s, 5 * VL);
        a6.intoArray(s, 6 * VL);
        a7.intoArray(s, 7 * VL);
    }

    /** One row at byte o with x, as {@link #scaleFar8}. */
    static float scaleOne(MemorySegment seg, long o, int k, float[] x, int xo, float[] s) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector z = FloatVector.zero(F), acc = z;
        for (int b = 0, nb = k / 32; b < nb; b++, o += 34, xo += 32) {
            FloatVector t = z;
            for (int half = 0; half < 2; half++) {
                ByteVector v = ByteVector.fromMemorySegment(B, w, o + 2 + 16 * half, LE);
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    t = ((FloatVector) v.convertShape(VectorOperators.B2F, F, part))
                            .fma(FloatVector.fromArray(F, x, xo + 16 * half + p * VL), t);
                }
            }
            acc = t.fma(FloatVector.broadcast(F, f16(w, o)), acc);
        }
        acc.intoArray(s, 0);
        return hsum(s, 0);
    }

    /**
     * Batched decode in block-scale arithmetic: weight rows o0, o1 × activation rows at a[x0 ..], .., a[x3 ..]
     * (repeated rows at the edges): leaves the accumulator lanes of weight row r and activation row i in
     * {@code s[(4r + i)·VL ..]}, whose {@link QSpecies#hsum} is the output by the sequence of {@link #scaleFar8}
     * and {@link #scaleOne} ({@link BatchDriver#store} takes them: they would cost this method about 4 000 of its
     * parse nodes, which were at C2's cutoff with them). Each weight vector is converted once for four activation
     * rows.
     */
    static void scaleW2x4(MemorySegment seg, long o0, long o1, int k, float[] a, int x0, int x1, int x2, int x3,
                          float[] s) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        FloatVector z = FloatVector.zero(F), a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        for (int b = 0, nb = k / 32; b < nb; b++) {
            long bo = 34L * b;
            FloatVector t00 = z, t01 = z, t02 = z, t03 = z, t10 = z, t11 = z, t12 = z, t13 = z;
            for (int half = 0; half < 2; half++) {
                ByteVector v0 = ByteVector.fromMemorySegment(B, w, o0 + bo + 2 + 16 * half, LE);
                ByteVector v1 = ByteVector.fromMemorySegment(B, w, o1 + bo + 2 + 16 * half, LE);
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    int xp = 32 * b + 16 * half + p * VL;
                    FloatVector q0 = (FloatVector) v0.convertShape(VectorOperators.B2F, F, part);
                    FloatVector q1 = (FloatVector) v1.convertShape(VectorOperators.B2F, F, part);
                    FloatVector xv = FloatVector.fromArray(F, a, x0 + xp);
                    t00 = q0.fma(xv, t00);
                    t10 = q1.fma(xv, t10);
                    xv = FloatVector.fromArray(F, a, x1 + xp);
                    t01 = q0.fma(xv, t01);
                    t11 = q1.fma(xv, t11);
                    xv = FloatVector.fromArray(F, a, x2 + xp);
                    t02 = q0.fma(xv, t02);
                    t12 = q1.fma(xv, t12);
                    xv = FloatVector.fromArray(F, a, x3 + xp);
                    t03 = q0.fma(xv, t03);
                    t13 = q1.fma(xv, t13);
                }
            }
            FloatVector d0 = FloatVector.broadcast(F, f16(w, o0 + bo)), d1 = FloatVector.broadcast(F, f16(w, o1 + bo));
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
    }
}
