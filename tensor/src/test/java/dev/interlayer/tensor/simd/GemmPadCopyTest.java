package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.ChildJvm;
import dev.interlayer.tensor.ComputePool;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The padded span copy of {@link GemmDirectKernel} ({@code -Ddev.interlayer.gemm.ws.padcopy=true}, off by default):
 * which row strides it takes, the padded stride, and the F32 GEMM with it switched on (in a child JVM, the switch
 * being a static final) on weights whose rows are a multiple of 4 KB apart, against the double oracle and bit for bit
 * against the default path in this JVM.
 *
 * <p>Exact equality between the two runs is allowed here, against the house rule of no exact float equality between
 * two computation paths, because it is one computation: the copy holds the same float values, and the same kernels
 * run the same FMAs in the same order over them; only the addresses differ. A difference would be a copy bug.
 */
class GemmPadCopyTest {
    /** m: narrow panels only, a 3-vector last panel, k-pair and dot-product tails; k and the row stride ldw. */
    private static final int[] MS = {64, 45, 40, 36, 33};
    private static final int[][] K_LDW = {{1024, 1024}, {300, 2048}, {2100, 3072}};
    private static final int N = 30; // one 24-row span and a 6-row one
    private final int threads = ComputePool.threads();

    @AfterEach
    void restoreThreads() {
        ComputePool.setThreads(threads);
    }

    @Test
    void takesStridesThatPutFourOrMoreGroupRowsIntoOneSet() {
        for (long ldw : new long[] {1024, 2048, 4096, 512, 1536, 3072}) {
            assertTrue(GemmDirectKernel.aliased(ldw), "ldw " + ldw);
        }
        for (long ldw : new long[] {384, 768, 1040, 1000, 1, 8, 2064}) {
            assertFalse(GemmDirectKernel.aliased(ldw), "ldw " + ldw);
        }
    }

    @Test
    void paddedStrideHoldsTheRowAndPutsTheGroupIntoTwelveSets() {
        for (int kc : new int[] {1, 17, 1000, 1024, 1025, 2048}) {
            long ld = GemmDirectKernel.paddedStride(kc);
            assertTrue(ld >= kc, "kc " + kc);
            assertEquals(64, ld * Float.BYTES % 4096, "kc " + kc);
            assertFalse(GemmDirectKernel.aliased(ld), "kc " + kc);
        }
    }

    @Test
    void switchedOnEqualsTheDefaultBitForBitAndMatchesTheOracle() throws Exception {
        assertFalse(GemmDirectKernel.PAD_COPY, "the default must be off for the comparison");
        String out = ChildJvm.run(GemmPadCopyTest.class, List.of("-Ddev.interlayer.gemm.ws.padcopy=true"), 180,
                List.of());
        assertTrue(out.contains("OK padcopy=true"), out);
        for (String line : sweep().split("\n")) {
            assertTrue(out.contains(line), "child (padcopy) and default differ at " + line + "\nchild: " + out);
        }
    }

    /** {@link #sweep} with the copy on; run by {@link #switchedOnEqualsTheDefaultBitForBitAndMatchesTheOracle}. */
    public static void main(String[] args) {
        if (!GemmDirectKernel.PAD_COPY) {
            throw new IllegalStateException("-Ddev.interlayer.gemm.ws.padcopy=true did not switch the copy on");
        }
        System.out.println(sweep());
        System.out.println("OK padcopy=true");
    }

    /** Every shape at 1 and 2 threads, each checked against the oracle; one line per product with its CRC. */
    private static String sweep() {
        GemmKernel kernel = new GemmVector();
        StringBuilder sb = new StringBuilder();
        for (int t : new int[] {1, 2}) {
            ComputePool.setThreads(t);
            for (int[] kl : K_LDW) {
                for (int m : MS) {
                    sb.append("m=").append(m).append(" k=").append(kl[0]).append(" ldw=").append(kl[1])
                            .append(" threads=").append(t).append(" crc=")
                            .append(gemm(kernel, m, kl[0], kl[1], 31L * m + kl[0])).append('\n');
                }
            }
        }
        return sb.toString().strip();
    }

    // C = X·Wᵀ on native weights, rows ldw apart, checked against the double oracle; CRC of C's bits.
    private static long gemm(GemmKernel kernel, int m, int k, int ldw, long seed) {
        CRC32 crc = new CRC32();
        for (float v : GemmOracle.stridedProduct(kernel, m, N, k, ldw, seed, "padcopy=" + GemmDirectKernel.PAD_COPY)) {
            int bits = Float.floatToRawIntBits(v);
            crc.update(new byte[] {(byte) bits, (byte) (bits >>> 8), (byte) (bits >>> 16), (byte) (bits >>> 24)});
        }
        return crc.getValue();
    }
}
