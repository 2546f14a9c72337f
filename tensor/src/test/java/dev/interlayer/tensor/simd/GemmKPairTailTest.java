package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.testing.PoolSizes;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The k-pair tail panel ({@link GemmKPairTail}) against a scalar oracle: the kernel alone on 1–12 weight rows,
 * 1…VL/2 tokens, odd and even k (1, 2, 3, 17, 300, 301), strided activations and weights at offsets; and the whole
 * F32 GEMM through {@link GemmVector} for m = whole 32-token panels + 5…8 rows (37–40, 69–72, 101–104, and 165–168
 * whose second MC block is 37–40 rows), odd n, k = 1, 17, 301 and 2100 (two k blocks, so C is accumulated), on
 * non-contiguous views (row strides past the row length, offsets into A, W and C), at 1 and 2 threads.
 *
 * <p>Tolerance as in {@code WeightStreamEdgesTest}: any summation order of k float products is within
 * γ_k·Σ|x||w| of the exact sum and the oracle's double sum narrowed to float adds u·Σ|x||w|; allowed
 * (k + 2)·u·Σ|x||w|. The k-pair sums (even and odd steps apart, added at the end) are one such order.
 */
class GemmKPairTailTest {
    @Test
    void theDefaultSwitchTakesTailsOfFiveToEightAt512Bits() {
        assumeTrue(GemmSpecies.VL == 16 && Integer.getInteger("dev.interlayer.gemm.ws.kpair") == null);
        assertEquals(5, GemmKPairTail.MIN);
        assertFalse(GemmKPairTail.takes(0));
        assertFalse(GemmKPairTail.takes(4));
        for (int r = 5; r <= 8; r++) {
            assertTrue(GemmKPairTail.takes(r), "tail " + r);
        }
        assertFalse(GemmKPairTail.takes(9));
    }

    @Test
    void kernelMatchesTheScalarOracle() {
        SplittableRandom rng = new SplittableRandom(0x4B9A1);
        int ld = GemmWeightStream.NR;
        for (int kc : new int[] {1, 2, 3, 17, 300, 301}) {
            for (int rows = 1; rows <= 12; rows += rows < 3 ? 1 : 4) {
                for (int tokens = 1; tokens <= GemmKPairTail.TOKENS; tokens++) {
                    int lda = kc + 3, a0 = 5, ldw = kc + 7, w0 = 11;
                    float[] a = GemmOracle.gaussian(rng, a0 + tokens * lda);
                    float[] wv = GemmOracle.gaussian(rng, w0 + 12 * ldw);
                    MemorySegment w = GemmOracle.nativeCopy(wv);
                    float[] xk = new float[3 + GemmKPairTail.packedLength(kc)];
                    Arrays.fill(xk, Float.NaN);                  // the pack must write every lane the kernel reads
                    GemmKPairTail.pack(xk, 3, kc, a, a0, lda, tokens);
                    float[] tile = new float[GemmWeightStream.TILE];
                    Arrays.fill(tile, Float.NaN);
                    GemmKPairTail.tile(kc, w, w0, ldw, rows, xk, 3, tile, ld);
                    for (int r = 0; r < 12; r++) {
                        int row = Math.min(r, rows - 1);
                        for (int t = 0; t < tokens; t++) {
                            double want = 0, scale = 0;
                            for (int p = 0; p < kc; p++) {
                                double x = (double) a[a0 + t * lda + p] * wv[w0 + row * ldw + p];
                                want += x;
                                scale += Math.abs(x);
                            }
                            GemmOracle.check(tile[r * ld + t], want, scale, kc, "kernel kc=" + kc + " rows=" + rows
                                    + " tokens=" + tokens + " r=" + r + " t=" + t);
                        }
                    }
                }
            }
        }
    }

    @Test
    void gemmWithFiveToEightTrailingRowsMatchesTheScalarOracle() {
        GemmKernel kernel = new GemmVector();
        SplittableRandom pick = new SplittableRandom(0x37_40);
        PoolSizes.oneAndTwo(t -> {
            for (int whole : new int[] {32, 64, 96, 160}) {
                for (int rem = 5; rem <= 8; rem++) {
                    int m = whole + rem;
                    gemm(kernel, m, 25, 301, pick.nextLong(), t);
                    gemm(kernel, m, 13, 1, pick.nextLong(), t);
                }
            }
            gemm(kernel, 37, 13, 2100, pick.nextLong(), t);        // two k blocks of 1050: C accumulated
            gemm(kernel, 40, 37, 17, pick.nextLong(), t);
            gemm(kernel, 39, 1, 300, pick.nextLong(), t);          // one weight row: the group repeats it
            gemm(kernel, 36, 11, 300, pick.nextLong(), t);         // a 4-row tail stays on the dot-product form
        });
    }

    // C = X·Wᵀ on strided views: X rows lda = k + 3 from aOff, W rows k + 5 apart from wOff, C rows n + 2 from cOff;
    // C's other elements must be left as they were.
    private static void gemm(GemmKernel kernel, int m, int n, int k, long seed, int threads) {
        SplittableRandom rng = new SplittableRandom(seed);
        int lda = k + 3, aOff = 7, ldw = k + 5, wOff = 9, ldc = n + 2, cOff = 4;
        float[] x = GemmOracle.gaussian(rng, aOff + m * lda);
        float[] wv = GemmOracle.gaussian(rng, wOff + n * ldw);
        MemorySegment w = GemmOracle.nativeCopy(wv);
        float[] c = new float[cOff + m * ldc];
        Arrays.fill(c, -7f);
        kernel.gemm(m, n, k, x, aOff, lda, w, DType.F32, wOff, ldw, 1, c, cOff, ldc);
        String what = "m=" + m + " n=" + n + " k=" + k + " threads=" + threads + " seed=" + seed;
        for (int i = 0; i < c.length; i++) {
            int r = (i - cOff) / ldc, j = (i - cOff) % ldc;
            if (i < cOff || j >= n) {
                assertEquals(-7f, c[i], what + ": C element " + i + " outside the view was written");
                continue;
            }
            double want = 0, scale = 0;
            for (int p = 0; p < k; p++) {
                double v = (double) x[aOff + r * lda + p] * wv[wOff + j * ldw + p];
                want += v;
                scale += Math.abs(v);
            }
            GemmOracle.check(c[i], want, scale, k, what + " C[" + r + ", " + j + "]");
        }
    }
}
