package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import com.sun.management.ThreadMXBean;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;

/**
 * The compact decode tiles of issue #12 ({@link Q40ScaleTiles#far8}, {@link Q6KTiles#far2Wide}, within C2's parse
 * budget) against the written-out ones ({@code far8Unrolled}, {@code far2WideUnrolled}) in whatever JVM calls
 * {@link #check}: whether their outputs agree bit for bit, and the bytes allocated and time per product of each.
 * Used by {@code PollutedDecodeProbe}. Two other compact forms were measured slower (one thread, 2048x2048, best
 * of 15 s, loaded machine; written-out 8.2-8.4 and 6.7-6.8 GB/s): every row's accumulator kept in scratch
 * between blocks, Q4_0 5.0-5.4 and Q6_K 4.4-4.7 GB/s; one row at a time for eight blocks (a single FMA chain),
 * 5.3 and 3.8.
 */
public final class CompactTilesCheck {
    private CompactTilesCheck() {
    }

    /**
     * Rows n × k = 512 × 512 of random Q4_0 and Q6_K codes, the written-out and the compact tiles over all rows as
     * {@link TileDriver} cuts them: whether the outputs agree bit for bit, and bytes allocated and ns per product
     * (best of {@code rounds} rounds of 50) for each. Needs 512-bit float vectors.
     */
    public static String check(int rounds) {
        if (VL != 16) {
            return "compact tiles: skipped (" + 32 * VL + "-bit floats)";
        }
        int n = 512, k = 512;
        Random r = new Random(5);
        float[] x = new float[k];
        for (int i = 0; i < k; i++) {
            x[i] = (float) r.nextGaussian();
        }
        MemorySegment q4 = random(n * 18L * (k / 32), r, 18, 0), q6 = random(n * 210L * (k / 256), r, 210, 208);
        float[] s = new float[TileDriver.scratch(k)];
        float[][] out = new float[4][n];
        long[] bytes = new long[4], nanos = new long[4];
        Arrays.fill(nanos, Long.MAX_VALUE);
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < 4; v++) {
                long a0 = mx.getCurrentThreadAllocatedBytes(), t0 = System.nanoTime();
                for (int call = 0; call < 50; call++) {
                    run(v, v < 2 ? q4 : q6, n, k, x, s, out[v]);
                }
                nanos[v] = Math.min(nanos[v], (System.nanoTime() - t0) / 50);
                bytes[v] = (mx.getCurrentThreadAllocatedBytes() - a0) / 50;
            }
        }
        boolean same4 = Arrays.equals(out[0], out[1]), same6 = Arrays.equals(out[2], out[3]);
        return String.format("Q4_0 far8Unrolled %d B/call %d us, far8 %d B/call %d us, bit-identical %b; "
                        + "Q6_K far2WideUnrolled %d B/call %d us, far2Wide %d B/call %d us, bit-identical %b",
                bytes[0], nanos[0] / 1000, bytes[1], nanos[1] / 1000, same4,
                bytes[2], nanos[2] / 1000, bytes[3], nanos[3] / 1000, same6);
    }

    /** Variant v (0, 1: Q4_0 written-out and compact; 2, 3: Q6_K) over all n rows, tiles as TileDriver cuts them. */
    private static void run(int v, MemorySegment w, int n, int k, float[] x, float[] s, float[] c) {
        boolean q40 = v < 2;
        long rowBytes = q40 ? 18L * (k / 32) : 210L * (k / 256);
        if (q40) {
            Q40ScaleTiles.blockSums(k, x, 0, s, Q40ScaleTiles.SUMS);
        }
        int q = n / (q40 ? 8 : 2);
        long step = q * rowBytes;
        for (int j = 0; j < q; j++) {
            long o = j * rowBytes;
            switch (v) {   // direct static calls, as in TileDriver, so each tile is compiled as it is there
                case 0 -> Q40ScaleTiles.far8Unrolled(w, o, step, k, x, 0, s, c, j, q);
                case 1 -> Q40ScaleTiles.far8(w, o, step, k, x, 0, s, c, j, q);
                case 2 -> Q6KTiles.far2WideUnrolled(w, o, step, k, x, 0, s, c, j, q);
                default -> Q6KTiles.far2Wide(w, o, step, k, x, 0, s, c, j, q);
            }
        }
    }

    /** Random bytes off heap with a small normal f16 scale at {@code scaleAt} of every block. */
    static MemorySegment random(long size, Random r, int block, int scaleAt) {
        byte[] b = new byte[(int) size];
        r.nextBytes(b);
        for (int o = scaleAt; o + 1 < b.length; o += block) {
            short h = Float.floatToFloat16((float) (r.nextGaussian() * 0.02));
            b[o] = (byte) h;
            b[o + 1] = (byte) (h >> 8);
        }
        return Arena.ofAuto().allocate(size, 64).copyFrom(MemorySegment.ofArray(b));
    }
}
