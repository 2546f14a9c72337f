package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.*;

/**
 * The vector species the GEMM kernels use, fixed once per JVM from {@code dev.interlayer.simd.bits}
 * (128/256/512; unset = the preferred species). They are {@code static final} on purpose: the JIT
 * only turns Vector API calls into machine instructions when the species is a constant, so a
 * species held in an instance field would run the (100x slower) Java fallback. Tests cover the other
 * widths by starting a JVM per width.
 *
 * <p>Also holds the weight loaders that widen F16/BF16 lanes to F32.
 */
final class GemmSpecies {
    static final VectorSpecies<Float> F = pick();
    /** Floats per vector. */
    static final int VL = F.length();
    /** Shorts with the same lane count as {@link #F} (half the bits). */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * The class of native memory segments (mapped files are a subclass that overrides none of the accessors a load
     * calls). The in-place F32 kernels cast their weight segment to it first: {@code Class.cast} with a constant
     * class gives C2 the segment's type, so the accessors inside each {@code MemorySegment.get} inline by class
     * hierarchy analysis. Without it C2 devirtualizes them through the type profiles of the JDK's segment access
     * code, which every segment read in the JVM shares: once heap and native segments of several kinds have passed
     * there, the accessors stay virtual calls and the F32 GEMM ran 7–10× slower.
     */
    static final Class<? extends MemorySegment> NATIVE = MemorySegment.NULL.getClass();

    /** Weight storage kinds, resolved from DType once per call so inner loops switch on an int. */
    static final int KIND_F32 = 0, KIND_BF16 = 1, KIND_F16 = 2;

    private GemmSpecies() {
    }

    private static VectorSpecies<Float> pick() {
        String p = System.getProperty("dev.interlayer.simd.bits");
        int bits = p == null || p.isBlank() ? -1 : Integer.parseInt(p.trim());
        return bits <= 0 ? FloatVector.SPECIES_PREFERRED : VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
    }

    /** x rounded up to a multiple of {@code to}, at least {@code to} (block sizes and buffer lengths). */
    static int roundUp(int x, int to) {
        return Math.max(to, (x + to - 1) / to * to);
    }

    static int kind(DType t) {
        return switch (t) {
            case F32 -> KIND_F32;
            case BF16 -> KIND_BF16;
            case F16 -> KIND_F16;
            default -> throw new IllegalArgumentException("GEMM weights must be F32, F16 or BF16, got " + t);
        };
    }

    /**
     * dst[off ..+ VL) = the VL weights from element {@code elem}, widened to F32: the packing and widening copies of the
     * GEMM paths. It takes and returns no vector and calls nothing of ours that does (the JDK's loads, each
     * @ForceInline, are written out here), so whether C2 inlines it or not, no vector crosses a call and none is boxed.
     * A loader that returns the vector ({@code load(kind, …)}, which these copies called before) is boxed whenever C2
     * leaves it un-inlined, and its inlining budget and the order of compilation decide that differently from JVM to
     * JVM. Whole vectors only (168 bytecodes, well under C2's 325 for a hot call), so that C2 inlines it in the
     * widening kernel's k loop; tails go through {@link #widenPart}.
     */
    static void widen(int kind, MemorySegment s, long elem, float[] dst, int off) {
        if (kind == KIND_F32) {
            FloatVector.fromMemorySegment(F, s, elem << 2, LE).intoArray(dst, off);
            return;
        }
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, s, elem << 1, LE)
                .convertShape(VectorOperators.S2I, I, 0);
        if (kind == KIND_BF16) {
            h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off);
            return;
        }
        // f16ToF32, written out (the same operations, so the same bits)
        IntVector bits = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f)
                .reinterpretAsInts();
        bits = bits.lanewise(VectorOperators.OR, 0x7F80_0000, h.and(0x7C00).compare(VectorOperators.EQ, 0x7C00));
        bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().intoArray(dst, off);
    }

    /**
     * dst[off ..+ lanes) = the weights [elem, elem + lanes) widened to F32 ({@code lanes < VL}: a row's or panel's
     * last columns), and dst[off + lanes ..+ VL − lanes) = 0 when {@code zeroRest} (else left as it is). Element by
     * element ({@link #scalar}: the same values as the vector widening): no vector at all.
     */
    static void widenPart(int kind, MemorySegment s, long elem, int lanes, boolean zeroRest, float[] dst, int off) {
        for (int i = 0; i < lanes; i++) {
            dst[off + i] = scalar(kind, s, elem + i);
        }
        if (zeroRest) {
            java.util.Arrays.fill(dst, off + lanes, off + VL, 0f);
        }
    }

    // One loader per storage kind, each small enough that C2 inlines it at every call site (a vector
    // returned from a call that is not inlined is boxed).

    /** VL F32 weights starting at element {@code elem}. */
    static FloatVector loadF32(MemorySegment s, long elem) {
        return FloatVector.fromMemorySegment(F, s, elem << 2, LE);
    }

    /** VL BF16 weights starting at element {@code elem}, widened to F32 (bf16 = the top half of an f32). */
    static FloatVector loadBf16(MemorySegment s, long elem) {
        return ((IntVector) ShortVector.fromMemorySegment(S, s, elem << 1, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** VL F16 weights starting at element {@code elem}, widened to F32. */
    static FloatVector loadF16(MemorySegment s, long elem) {
        return f16ToF32((IntVector) ShortVector.fromMemorySegment(S, s, elem << 1, LE)
                .convertShape(VectorOperators.S2I, I, 0));
    }

    /**
     * IEEE half to float on sign-extended 16-bit lanes: shift the magnitude into the float
     * exponent/mantissa position and rescale by 2^112 (exact for normals and subnormals), then force
     * the exponent to all ones for Inf/NaN and put the sign back.
     */
    static FloatVector f16ToF32(IntVector h) {
        IntVector mag = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector bits = mag.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        bits = bits.lanewise(VectorOperators.OR, 0x7F80_0000, h.and(0x7C00).compare(VectorOperators.EQ, 0x7C00));
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /**
     * Σ of the VL lanes a kernel stored at t[off, off + VL), in one fixed order: pairwise halving, t[i] += t[i + s]
     * for s = VL/2, …, 1 (the lanes of the upper half added to the lower, and so on; t is overwritten). A
     * vector's {@code reduceLanes(ADD)} leaves the order to the implementation: the interpreter adds lanes in
     * sequence and C2 in a tree, so a product computed before and after JIT compilation differed in the last
     * bits (632 of 1000 sums of 16 lanes in a probe on JDK 25). The dot-product kernels sum with this so that a
     * row's result depends only on its inputs: the same on every call, for every batch size and place in the
     * batch. Scalar code on a stored vector, not lane shuffles in a helper taking the vector: a vector passed to
     * a call C2 does not inline is boxed (16 such calls in one tile were left un-inlined, 190 KB per step).
     */
    static float fold(float[] t, int off) {
        for (int s = VL / 2; s >= 1; s >>= 1) {
            for (int i = off; i < off + s; i++) {
                t[i] += t[i + s];
            }
        }
        return t[off];
    }

    /** One weight element widened to F32. */
    static float scalar(int kind, MemorySegment s, long elem) {
        return switch (kind) {
            case KIND_F32 -> s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, elem << 2);
            case KIND_BF16 -> Float.intBitsToFloat(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, elem << 1) << 16);
            default -> Float.float16ToFloat(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, elem << 1));
        };
    }
}
