package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import com.sun.management.ThreadMXBean;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Random;

/**
 * Q8_0's written-out dequantizing decode tile ({@link Block32Tiles#q8_0Far8}, past C2's parse budget) against the
 * block-scale one ({@link Q80Tiles#scaleFar8}, within it) in whatever JVM calls {@link #check}: bytes allocated
 * and time per 512 × 512 product of each (their floats differ by design). Used by {@code PollutedDecodeProbe}.
 */
public final class Q80TilesCheck {
    private Q80TilesCheck() {
    }

    /** Best of {@code rounds} rounds of 50 products per tile, as TileDriver cuts the rows. */
    public static String check(int rounds) {
        int n = 512, k = 512;
        long rowBytes = 34L * (k / 32);
        Random r = new Random(8);
        float[] x = BlockRows.gaussian(r, k), s = new float[TileDriver.scratch(k)], c = new float[n];
        MemorySegment w = CompactTilesCheck.random(n * rowBytes, r, 34, 0);
        long[] bytes = new long[2], nanos = {Long.MAX_VALUE, Long.MAX_VALUE};
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < 2; v++) {
                long a0 = mx.getCurrentThreadAllocatedBytes(), t0 = System.nanoTime();
                for (int call = 0; call < 50; call++) {
                    int q = n / 8;
                    for (int j = 0; j < q; j++) {
                        if (v == 0) {
                            Block32Tiles.q8_0Far8(w, j * rowBytes, q * rowBytes, k, x, 0, s, c, j, q);
                        } else {
                            Q80Tiles.scaleFar8(w, j * rowBytes, q * rowBytes, k, x, 0, s);
                            for (int t = 0; t < 8; t++) {
                                c[j + t * q] = QSpecies.hsum(s, t * VL);
                            }
                        }
                    }
                }
                nanos[v] = Math.min(nanos[v], (System.nanoTime() - t0) / 50);
                bytes[v] = (mx.getCurrentThreadAllocatedBytes() - a0) / 50;
            }
        }
        return String.format("Q8_0 q8_0Far8 (written) %d B/call %d us, scaleFar8 %d B/call %d us",
                bytes[0], nanos[0] / 1000, bytes[1], nanos[1] / 1000);
    }
}
