package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmWeightStream.NR;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The compact micro-kernels ({@link GemmDirectKernel#micro2Half} twice for a 12-row group, {@link
 * GemmDirectKernel#micro3Half} twice for an 8-row one, as {@link GemmDirectKernel#COMPACT} runs them) against the
 * scalar oracle, for every row count of a group (short last groups repeat their last row), k = 1, 2, 17, 300, and
 * offset weights and activations. They also equal the written-out kernels bit for bit: the same products summed in
 * the same order per (row, token), which is why exact equality between the two paths is asserted here.
 */
class GemmCompactKernelsTest {
    @Test
    void twelveRowGroupsMatchTheOracleAndTheWrittenOutKernel() {
        check(GemmWeightStream.MR, NR, 0x12);
    }

    @Test
    void eightRowGroupsMatchTheOracleAndTheWrittenOutKernel() {
        check(GemmDirectKernel.MR3, GemmDirectKernel.NR3, 0x8);
    }

    @Test
    void heapWeightsAreRefused() {
        // the in-place kernels read native segments only; GemmWeightStream widens heap F32 weights instead
        float[] tile = new float[GemmWeightStream.TILE];
        MemorySegment heap = MemorySegment.ofArray(new float[12 * 4]);
        assertThrows(ClassCastException.class,
                () -> GemmDirectKernel.micro2Half(4, heap, 0, 4, 6, new float[4 * NR], 0, tile, 0));
        assertThrows(ClassCastException.class,
                () -> GemmDirectKernel.micro2Any(4, heap, 0, 4, 12, new float[4 * NR], 0, tile));
    }

    private static void check(int group, int nr, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int rows = 1; rows <= group; rows++) {
            for (int kc : new int[] {1, 2, 17, 300}) {
                long w0 = 1 + rng.nextInt(5), ldw = kc + rng.nextInt(3);
                float[] wv = GemmOracle.gaussian(rng, (int) (w0 + group * ldw));
                MemorySegment w = GemmOracle.nativeCopy(wv);
                int xi = 5;
                float[] xp = GemmOracle.gaussian(rng, xi + kc * nr);
                float[] compact = new float[GemmWeightStream.TILE], written = new float[GemmWeightStream.TILE];
                int half = group / 2;
                if (group == GemmWeightStream.MR) {
                    GemmDirectKernel.micro2Half(kc, w, w0, ldw, Math.min(rows, half), xp, xi, compact, 0);
                    if (rows > half) {
                        GemmDirectKernel.micro2Half(kc, w, w0 + half * ldw, ldw, rows - half, xp, xi, compact, half);
                    }
                    GemmDirectKernel.micro2Any(kc, w, w0, ldw, rows, xp, xi, written);
                } else {
                    GemmDirectKernel.micro3Half(kc, w, w0, ldw, Math.min(rows, half), xp, xi, compact, 0);
                    if (rows > half) {
                        GemmDirectKernel.micro3Half(kc, w, w0 + half * ldw, ldw, rows - half, xp, xi, compact, half);
                    }
                    GemmDirectKernel.micro3(kc, w, w0, ldw, rows, xp, xi, written);
                }
                String what = group + "-row group, rows " + rows + ", kc " + kc;
                float[] c = java.util.Arrays.copyOf(compact, rows * nr), o = java.util.Arrays.copyOf(written, rows * nr);
                assertArrayEquals(o, c, what);         // rows past `rows` are not stored by the GEMM
                for (int r = 0; r < rows; r++) {
                    for (int t = 0; t < nr; t++) {
                        double want = 0, scale = 0;
                        for (int p = 0; p < kc; p++) {
                            double v = (double) wv[(int) (w0 + r * ldw + p)] * xp[xi + p * nr + t];
                            want += v;
                            scale += Math.abs(v);
                        }
                        GemmOracle.check(compact[r * nr + t], want, scale, kc, what + " r " + r + " t " + t);
                    }
                }
            }
        }
    }
}
