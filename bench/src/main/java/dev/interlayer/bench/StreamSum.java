package dev.interlayer.bench;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.*;

/**
 * Read bandwidth probe: Σ of all floats of a segment with four independent vector accumulators, so
 * the loop is bound by memory, not by add latency. The ceiling a bandwidth-bound matvec can reach.
 */
final class StreamSum {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private StreamSum() {
    }

    /** Σ seg[i], the segment split into {@code parts} slices summed on ComputePool (one per thread). */
    static float sum(MemorySegment seg, int parts) {
        long n = seg.byteSize() / 4 / parts * 4;
        float[] partial = new float[parts];
        dev.interlayer.tensor.ComputePool.parallelFor(parts, t -> partial[t] = sum(seg.asSlice(t * n, n)));
        float s = 0;
        for (float v : partial) {
            s += v;
        }
        return s;
    }

    /** Σ seg[i] over the whole segment (a tail shorter than 4 vectors is ignored). */
    static float sum(MemorySegment seg) {
        long n = seg.byteSize() / 4, step = 4L * F.length(), vb = F.vectorByteSize();
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        for (long i = 0; i + step <= n; i += step) {
            long b = i << 2;
            s0 = s0.add(FloatVector.fromMemorySegment(F, seg, b, ByteOrder.LITTLE_ENDIAN));
            s1 = s1.add(FloatVector.fromMemorySegment(F, seg, b + vb, ByteOrder.LITTLE_ENDIAN));
            s2 = s2.add(FloatVector.fromMemorySegment(F, seg, b + 2 * vb, ByteOrder.LITTLE_ENDIAN));
            s3 = s3.add(FloatVector.fromMemorySegment(F, seg, b + 3 * vb, ByteOrder.LITTLE_ENDIAN));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }
}
