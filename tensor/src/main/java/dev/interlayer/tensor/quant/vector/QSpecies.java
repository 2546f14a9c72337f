package dev.interlayer.tensor.quant.vector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Species of the quantized kernels, fixed once per JVM ({@code static final}, so the JIT compiles
 * Vector API calls to instructions): floats of the preferred width or {@code dev.interlayer.simd.bits}
 * (128, 256 or 512), and 16-byte groups of codes. A group of 16 codes widens to {@link #PARTS} float
 * vectors; every block format's rows are whole multiples of 16 values, so there is no tail.
 */
final class QSpecies {
    static final VectorSpecies<Float> F = pick();
    static final int VL = F.length();
    /** Ints of the same shape as {@link #F}. */
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    /**
     * Float vectors per 16-byte group. The kernels pass {@code convertShape} the part index as
     * {@code PARTS == 1 ? 0 : p}, which C2 folds to the constant 0 while parsing with 512-bit floats. The loop
     * variable p is constant only after loop optimization, which runs after escape analysis; until then the
     * Vector API's shared {@code part != 0} branches stay alive once any caller in the JVM has taken them, and
     * a vector that may flow through a merge with them escapes and is boxed. (A full test-suite JVM on a loaded
     * machine once measured 10.7 MB per Q8_0 decode matmul, 0 when run alone; not reproduced on demand since.)
     */
    static final int PARTS = 16 / VL;
    /** 32-byte groups (Q6_K's columns), widening to {@link #PARTS32} float vectors. */
    static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    static final int PARTS32 = 32 / VL;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    /**
     * The class of off-heap segments (allocated or mapped). The decode tiles cast their weight segment to it
     * first thing ({@code NATIVE.cast(w)}), which gives C2 the segment's class inside the kernel: without it,
     * each vector load asks the JDK-internal {@code ScopedMemoryAccess.loadFromMemorySegment} for the
     * segment's base through a call whose one type profile is shared by every Vector API segment load in
     * the JVM, and once heap (short[] BF16 tensors, byte[] test data) and off-heap segments have both been
     * loaded from anywhere, that call is megamorphic, the load is not intrinsified, and every vector the
     * kernel makes is boxed (measured: Q6_K decode 4x slower, 100 MB allocated per call, in a JVM that had
     * run the BF16 kernels). Heap segments take the dequantize-into-buffer path instead.
     */
    static final Class<?> NATIVE = java.lang.foreign.Arena.global().allocate(1).getClass();
    /**
     * The exact classes of {@link #F}'s, {@link #B}'s and {@link #I}'s vectors. The written-out tiles that parse past
     * C2's NodeCountInliningCutoff ({@link Q80Tiles#eight}, {@link Q6KTiles#far2WideUnrolled},
     * {@link Q40ScaleTiles#far8Unrolled}) cast every vector they make
     * to its class: C2 inlines the Vector API calls met past the cutoff late, and a late call on a vector whose class
     * the graph does not know binds through the type profile of the Vector API's shared call site, which in a JVM
     * that ran other vector shapes is megamorphic, and the vectors are boxed. With the exact class the call binds
     * directly; once inlined the cast folds away (as {@link #NATIVE}'s does).
     */
    @SuppressWarnings("unchecked")
    static final Class<FloatVector> FV = (Class<FloatVector>) FloatVector.zero(F).getClass();
    @SuppressWarnings("unchecked")
    static final Class<ByteVector> BV = (Class<ByteVector>) ByteVector.zero(B).getClass();
    @SuppressWarnings("unchecked")
    static final Class<IntVector> IV = (Class<IntVector>) IntVector.zero(I).getClass();
    /** The exact class of 128-bit int vectors (the 16-byte code groups taken as ints). */
    @SuppressWarnings("unchecked")
    static final Class<IntVector> IV4 = (Class<IntVector>) IntVector.zero(IntVector.SPECIES_128).getClass();

    private QSpecies() {
    }

    private static VectorSpecies<Float> pick() {
        String p = System.getProperty("dev.interlayer.simd.bits");
        int bits = p == null || p.isBlank() ? -1 : Integer.parseInt(p.trim());
        VectorSpecies<Float> s = bits <= 0 ? FloatVector.SPECIES_PREFERRED
                : VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        return s.vectorBitSize() > 512 ? FloatVector.SPECIES_512
                : s.vectorBitSize() < 128 ? FloatVector.SPECIES_128 : s;
    }

    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(I16, off));
    }

    /** Shuffles moving lane i + h to lane i (h = 1, 2, 4, 8; those of h ≥ VL unused), for {@link #hsum}. */
    private static final VectorShuffle<Float> ROT1 = VectorShuffle.iota(F, 1, 1, true);
    private static final VectorShuffle<Float> ROT2 = VectorShuffle.iota(F, 2 % VL, 1, true);
    private static final VectorShuffle<Float> ROT4 = VectorShuffle.iota(F, 4 % VL, 1, true);
    private static final VectorShuffle<Float> ROT8 = VectorShuffle.iota(F, 8 % VL, 1, true);

    /**
     * The sum of {@code r[o .. o + VL)} in one fixed order (halves added lane-wise, then halves of that), so
     * that every tile shape and every compilation tier reduces an accumulator to the same float; unlike
     * {@code reduceLanes(ADD)}, whose order the Vector API leaves to the implementation. Computed with vector
     * adds of the vector and its rotation by h = VL/2, ..., 1: lane i &lt; h gets {@code r[i] + r[i + h]}, exactly
     * the scalar loop's {@code r[i] += r[i + h]} (lanes ≥ h are not used again); 4 shuffles and adds instead of
     * 15 dependent scalar loads, adds and stores, which cost as much as the FMAs of a short (k = 2048) batched
     * tile. The vector is loaded here, not passed in (see {@code QuantDecode} on passing vectors).
     */
    static float hsum(float[] r, int o) {
        FloatVector t = FloatVector.fromArray(F, r, o);
        if (VL >= 16) {
            t = t.add(t.rearrange(ROT8));
        }
        if (VL >= 8) {
            t = t.add(t.rearrange(ROT4));
        }
        t = t.add(t.rearrange(ROT2));
        t = t.add(t.rearrange(ROT1));
        return t.lane(0);
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }
}
