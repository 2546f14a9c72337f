package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.testing.PoolSizes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The weight-stream GEMM with BF16/F16 weights whose rows are shorter than a 4 KB page, against the scalar oracle:
 * {@link GemmWidenKernel} then copies the next 12-row group as a few streams of several consecutive rows (k = 700:
 * 3 rows a stream; 1024 and 1536: 2; 2100: 1, the old twelve streams), and the last group's row count (n = 23: 11,
 * n = 25: 1, n = 37: 1, n = 29: 5) leaves streams with rows past the group's end. Weights contiguous (rows one
 * after another) and strided (rows ldw = k + 40 apart, a column slice of a wider matrix). m = 32 is one token panel
 * (the widening runs during it), 33 and 40 add the dot-product tail, 64 two panels. Same tolerance as
 * {@link GemmOracle}.
 */
class WidenCopyStreamsTest {
    @Test
    void rowsShorterThanAPageMatchTheOracle() {
        GemmKernel kernel = new GemmVector();
        SplittableRandom pick = new SplittableRandom(0x57AE);
        PoolSizes.oneAndTwo(t -> {
            for (DType dt : new DType[] {DType.BF16, DType.F16}) {
                for (int k : new int[] {700, 1024, 1536, 2100}) {
                    for (int n : new int[] {23, 25, 29, 37}) {
                        for (int m : new int[] {32, 33, 40, 64}) {
                            check(kernel, dt, m, n, k, k, pick.nextLong(), t);
                            check(kernel, dt, m, n, k, k + 40, pick.nextLong(), t);
                        }
                    }
                }
            }
        });
    }

    // C = X·Wᵀ for X [m, k] heap and W [n, k] in dt, row j at element j·ldw of a native segment; C prefilled with NaN,
    // which must all be overwritten.
    private static void check(GemmKernel kernel, DType dt, int m, int n, int k, int ldw, long seed, int threads) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = GemmOracle.gaussian(rng, m * k);
        MemorySegment w = Arena.ofAuto().allocate((long) n * ldw * 2, 64);
        float[] wv = new float[n * k];                  // the stored (rounded) weights, for the oracle
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < ldw; p++) {
                float v = (float) rng.nextGaussian();
                short h = dt == DType.BF16 ? (short) (Float.floatToRawIntBits(v) >>> 16) : Float.floatToFloat16(v);
                w.setAtIndex(ValueLayout.JAVA_SHORT, (long) j * ldw + p, h);
                if (p < k) {
                    wv[j * k + p] = dt == DType.BF16 ? Float.intBitsToFloat(h << 16) : Float.float16ToFloat(h);
                }
            }
        }
        float[] c = new float[m * n];
        java.util.Arrays.fill(c, Float.NaN);
        kernel.gemm(m, n, k, x, 0, k, w, dt, 0, ldw, 1, c, 0, n);
        GemmOracle.checkProduct(c, x, wv, m, n, k,
                dt + " m=" + m + " n=" + n + " k=" + k + " ldw=" + ldw + " threads=" + threads + " seed=" + seed);
    }
}
