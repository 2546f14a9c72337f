package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** Seeded random quantized rows for the kernel tests: random codes, finite f16 scales in sane ranges. */
final class QuantTestData {
    private QuantTestData() {
    }

    /** Byte offsets of the f16 scale fields of each format's block. */
    static int[] scaleOffsets(DType t) {
        return switch (t) {
            case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    /**
     * n rows of k values of type t: random bytes with every f16 scale field set to a random normal value, off
     * heap as a mapped file's tensors are (the decode tiles take only off-heap segments; {@link #onHeap} gives
     * the same bytes on the heap for the other path).
     */
    static MemorySegment randomRows(DType t, int n, int k, Random r) {
        long bytes = t.byteSize((long) n * k);
        byte[] b = new byte[(int) bytes];
        r.nextBytes(b);
        MemorySegment s = java.lang.foreign.Arena.ofAuto().allocate(Math.max(1, bytes), 64).asSlice(0, bytes)
                .copyFrom(MemorySegment.ofArray(b));
        for (long off = 0; off < bytes; off += t.blockBytes()) {
            for (int so : scaleOffsets(t)) {
                float v = (float) (r.nextGaussian() * 0.02);
                s.set(ValueLayout.JAVA_SHORT_UNALIGNED, off + so, Float.floatToFloat16(v));
            }
        }
        return s;
    }

    /** A heap (byte[]) copy of s. */
    static MemorySegment onHeap(MemorySegment s) {
        return MemorySegment.ofArray(s.toArray(ValueLayout.JAVA_BYTE));
    }

    static float[] gaussian(int n, Random r) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
