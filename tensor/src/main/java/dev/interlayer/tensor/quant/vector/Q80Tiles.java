package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
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
