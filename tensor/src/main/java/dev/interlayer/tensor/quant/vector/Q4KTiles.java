package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.I;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.NATIVE;
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
 * Decode-time (m = 1) dot products of Q4_K weight rows read in place with F32 activations, in the two tile
 * shapes of {@link Block32Tiles}. Each output is the {@link TileDriver} sequence over the row dequantized
 * exactly as {@link QuantDecode} does ({@code fma(q, d·sc_j, −dmin·m_j)}): per
 * super-block (256 values, 144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of
 * nibbles) and chunk c of 32 bytes, the low nibbles (sub-block 2c) then the high ones (2c + 1), 16 bytes
 * at a time widened unsigned to int lanes, each vector folded into a single accumulator by one FMA.
 *
 * <p>The scale and min products of each super-block are decoded into scratch by {@link #scales} when the
 * loop reaches it, for the four rows. A pass over each whole row before the vector loop (as before) read
 * every row twice from memory, the first time with one load per 144 bytes and nothing to overlap it: half
 * of the kernel's time (probe, 2048x8192, one thread: 6.4 -&gt; 8.9 GB/s moving it into the loop). The four
 * rows' scales are one call ({@code scales4}): four calls written in the loop were inlined or not depending
 * on what the JVM had compiled before (C2's NodeCountInliningCutoff), and the kernel ran 5 or 9 GB/s
 * from one JVM to the next.
 *
 * <p>{@link #far4} is written out and parses past C2's NodeCountInliningCutoff in a JVM that ran much other code (it
 * boxed 1 MB per 512x512 product once, BENCHMARKS.md section 63), so every vector it makes is cast to its exact class
 * ({@link QSpecies#FV}, {@link QSpecies#BV}, {@link QSpecies#IV}), as in Q8_0's {@link Q80Tiles#eight}.
 *
 * <p>{@link #eight} (512-bit vectors, {@code dev.interlayer.q4_k.tile=eight}, not the default): the same floats as
 * {@link #far4} for eight rows advancing one 32-byte chunk per iteration together, as Q8_0's {@link Q80Tiles#eight}:
 * x loaded once for eight rows, eight read streams in step, each 16-byte group widened to ints once for both of its
 * nibbles. It ran 0.75-0.82x {@code far4} (QuantKernelProbe, one thread, thread CPU time, in the cache and past it,
 * issue #12): C2 spills the eight accumulators to the stack inside the loop and rematerializes the mask constant per
 * use (the disassembly of its tier-4 code), so eight rows cost more instructions per weight here than four, unlike
 * Q8_0, whose rows need no unpacking. Taking the nibbles out as bytes before widening (and 15; int shift and mask)
 * ran slower still (0.65-0.7x).
 *
 * <p>The tiles {@link #far4} and {@link #eight} are generated at build time from
 * {@code tensor/src/main/codegen/templates/Q4KTilesUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code Q4KTilesUnrolled}.
 */
final class Q4KTiles extends Q4KTilesUnrolled {
    private static final VectorSpecies<Long> L2 = LongVector.SPECIES_128;   // two lanes: C2 has no one-lane vectors
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q4KTiles() {
    }

    /**
     * For the row at byte o, per super-block sb: {@code s[so + 16·sb + j] = d·sc_j} and
     * {@code s[so + 16·sb + 8 + j] = −dmin·m_j} (j &lt; 8). The 12 scale bytes are read as a long and an int and
     * taken apart four at a time into the eight 6-bit scales (a long) and mins (another); the two longs become
     * one 16-byte vector and 16 floats with the float species of the kernels. (Byte-by-byte segment reads and
     * scalar conversions had made the kernel 2-4x slower; a separate 8-lane 256-bit float species for the
     * conversion, next to the 512-bit kernels, cost as much as the whole vector loop: Q4_K decode 6.5 -&gt; 13
     * GB/s without it.)
     */
    static void scales(MemorySegment seg, long o, int k, float[] s, int so) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        for (int sb = 0, n = k / 256; sb < n; sb++, o += 144, so += 16) {
            long lo = w.get(I64, o + 4);
            int hi = w.get(I32, o + 12);
            float d = Float.float16ToFloat(w.get(I16, o)), dmin = Float.float16ToFloat(w.get(I16, o + 2));
            int b03 = (int) lo, b47 = (int) (lo >>> 32);
            long sc = (b03 & 0x3F3F3F3FL) | (long) ((hi & 0x0F0F0F0F) | ((b03 >>> 2) & 0x30303030)) << 32;
            long mn = (b47 & 0x3F3F3F3FL) | (long) (((hi >>> 4) & 0x0F0F0F0F) | ((b47 >>> 2) & 0x30303030)) << 32;
            ByteVector b = LongVector.broadcast(L2, sc).withLane(1, mn).reinterpretAsBytes();
            FloatVector dv = FloatVector.broadcast(F, d), mv = FloatVector.broadcast(F, -dmin);
            for (int p = 0; p < PARTS; p++) {
                int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                // lanes p·VL + i < 8 are scales (times d), the rest mins (times −dmin)
                ((FloatVector) b.convertShape(VectorOperators.B2F, F, part)).mul(mv.blend(dv, F.indexInRange(p * VL, 8)))
                        .intoArray(s, so + p * VL);
            }
        }
    }

    /** {@link #scales} of one super-block of the four rows o0 + r·step, to {@code s[so + r·rs ..]}. */
    static void scales4(MemorySegment w, long o0, long step, float[] s, int so, int rs) {
        for (int r = 0; r < 4; r++) {
            scales(w, o0 + r * step, 256, s, so + r * rs);
        }
    }

    /** One row at byte o (scales at {@code s[4·VL ..]}) with x. */
    static float one(MemorySegment seg, long o, int k, float[] x, int xo, float[] s) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);        // see QSpecies.NATIVE
        int nj = k / 32, sc = 4 * VL;
        FloatVector acc = FloatVector.zero(F);
        for (int jb = 0; jb < nj; jb++, xo += 32) {                    // sub-blocks, as in far4
            if ((jb & 7) == 0) {
                scales(w, o + 144L * (jb >> 3), 256, s, sc + 16 * (jb >> 3));
            }
            int j = sc + 16 * (jb >> 3) + (jb & 7);
            FloatVector d = FloatVector.broadcast(F, s[j]), m = FloatVector.broadcast(F, s[j + 8]);
            long qo = o + 144L * (jb >> 3) + 16 + 32 * ((jb & 7) >> 1);
            int shift = 4 * (jb & 1);
            for (int g = 0; g < 2; g++) {
                ByteVector v = ByteVector.fromMemorySegment(B, w, qo + 16 * g, LE);
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;        // a constant where it can be (see QSpecies.PARTS)
                    acc = ((FloatVector) ((IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part))
                            .lanewise(VectorOperators.LSHR, shift).and(15).convert(VectorOperators.I2F, 0))
                            .fma(d, m).fma(FloatVector.fromArray(F, x, xo + 16 * g + p * VL), acc);
                }
            }
        }
        acc.intoArray(s, 0);
        return hsum(s, 0);
    }
}
