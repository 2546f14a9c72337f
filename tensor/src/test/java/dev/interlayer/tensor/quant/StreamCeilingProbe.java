package dev.interlayer.tensor.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A by-hand probe (not a test): the streaming-read ceiling that decode's weight reads are measured against,
 * a vectorized float sum over an off-heap segment larger than the last-level cache (as decode reads a
 * mapped file once per token), with four independent accumulators so that the adds are not the limit.
 * Prints the best of the rounds in GB/s per thread count (each thread sums its own contiguous part).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp tensor/target/classes:tensor/target/test-classes \
 *   dev.interlayer.tensor.quant.StreamCeilingProbe [MB=1024] [rounds=5]
 * </pre>
 */
public final class StreamCeilingProbe {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static volatile float sink;

    private StreamCeilingProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        long bytes = (args.length > 0 ? Long.parseLong(args[0]) : 1024) << 20;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        MemorySegment seg = Arena.global().allocate(bytes, 4096);
        for (long i = 0; i < bytes; i += 4096) {
            seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) 1);   // touch every page
        }
        for (int threads = 1; threads <= 2; threads++) {
            double best = 0;
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                Thread[] ts = new Thread[threads];
                long part = bytes / threads / 256 * 256;
                for (int t = 0; t < threads; t++) {
                    long from = t * part;
                    ts[t] = new Thread(() -> sink = sum(seg, from, from + part));
                    ts[t].start();
                }
                for (Thread t : ts) {
                    t.join();
                }
                double gbs = threads * part / ((System.nanoTime() - t0) * 1e-9) / 1e9;
                best = Math.max(best, gbs);
            }
            System.out.printf("threads=%d stream-sum %.1f GB/s (best of %d, %d MB)%n", threads, best, rounds,
                    bytes >> 20);
        }
    }

    private static float sum(MemorySegment s, long from, long to) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long step = F.vectorByteSize();
        for (long o = from; o < to; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, s, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, s, o + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, s, o + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, s, o + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
