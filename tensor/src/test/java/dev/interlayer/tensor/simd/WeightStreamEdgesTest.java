package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.testing.PoolSizes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The weight-stream GEMM ({@link GemmWeightStream}, with the next group's widening inside the micro-kernel,
 * {@link GemmWidenKernel}, and the dot-product tail) against a scalar oracle, through {@link GemmVector} with
 * weights in native memory as a loaded model has them: activation row counts around the token-panel edges
 * (16/17 where the dot-product path hands over, 28–33, 44–45 where the tail gives way to a padded panel, 63–65,
 * 127–129 around the MC block), weight-row counts around the 12-row group (a last group of 1 or 11 rows is the
 * one the previous group widens with zero rows), k around the vector length and over one k block (2100), zeros and
 * ones, at 1 and 2 threads. F32 weights take the in-place kernels ({@link GemmDirectKernel}: 44–48, 80 and 112 rows
 * end in a three-vector panel, 33–40 and 65 in the dot-product tail {@link GemmDirectTail}, 8/9 and 23/25 weight
 * rows cut its 8- and 24-row groups; 160 and 175 rows are 5 and 4 whole panels, the latter with a three-vector one
 * after them). k = 17, 303 and 2100 (two blocks of 1050) leave 1, 3 and 2 steps past a multiple of 4.
 *
 * <p>Tolerance, as in the tensor GEMM tests: any summation order of k float products is within γ_k·Σ|x||w| of the
 * exact sum (γ_k ≈ k·u, u = 2⁻²⁴), and the oracle's double sum narrowed to float adds u·Σ|x||w|; allowed
 * (k + 2)·u·Σ|x||w|. The oracle reads the same rounded BF16/F16 weights, so no format term.
 */
class WeightStreamEdgesTest {
    private static final int[] M = {0, 1, 16, 17, 20, 28, 31, 32, 33, 44, 45, 48, 49, 63, 64, 65, 80, 81, 112, 113, 127, 128, 129,
        160, 175};
    private static final int[] N = {0, 1, 7, 8, 9, 11, 12, 13, 23, 24, 25, 37, 49};
    private static final int[] K = {0, 1, 15, 16, 17, 100, 300, 303, 2100};
    @Test
    void matchesTheScalarOracleAroundEveryEdge() {
        GemmKernel kernel = new GemmVector();
        SplittableRandom pick = new SplittableRandom(0x5EED);
        PoolSizes.oneAndTwo(t -> {
            for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                for (int m : M) {                    // every m at group-edge n, a k with a vector tail, 2 k blocks
                    check(kernel, dt, m, 25, 300, pick.nextLong(), t, false);
                    check(kernel, dt, m, 13, 17, pick.nextLong(), t, false);
                    check(kernel, dt, m, 13, 2100, pick.nextLong(), t, false);   // two k blocks: C accumulated
                }
                for (int i = 0; i < 40; i++) {       // seeded mixes of all three
                    check(kernel, dt, M[pick.nextInt(M.length)], N[pick.nextInt(N.length)], K[pick.nextInt(K.length)],
                            pick.nextLong(), t, false);
                }
            }
        });
    }

    @Test
    void f32WeightsOnTheHeapAreWidenedLikeBf16() {
        // a heap float[] weight (a tensor built in Java, not mapped) takes the widening path: the in-place kernels
        // read native segments only (GemmSpecies.NATIVE)
        GemmKernel kernel = new GemmVector();
        SplittableRandom pick = new SplittableRandom(0xF32);
        PoolSizes.oneAndTwo(t -> {
            for (int m : new int[] {0, 1, 17, 33, 44, 49, 65, 113}) {
                check(kernel, DType.F32, m, 25, 300, pick.nextLong(), t, true);
                check(kernel, DType.F32, m, 13, 2100, pick.nextLong(), t, true);
            }
        });
    }

    /**
     * A k block size that is no multiple of the vector length ({@code dev.interlayer.gemm.ws.kc=683}, a tuning
     * switch read once per JVM, so in a child JVM): the widened rows' last masked tail once ran past the buffer.
     */
    @Test
    void oddBlockSizeOverride() throws Exception {
        String out = dev.interlayer.tensor.ChildJvm.run(OddBlockProbe.class, java.util.List.of(
                "-Ddev.interlayer.gemm.ws.kc=683"), 120, java.util.List.of());
        assertTrue(out.contains("odd kc ok"), out);
    }

    /** Checks BF16 and heap F32 products whose k spans one, two and three blocks of 683, then prints "odd kc ok". */
    static final class OddBlockProbe {
        private OddBlockProbe() {
        }

        public static void main(String[] args) {
            if (GemmWeightStream.KC != 683) {
                throw new AssertionError("block size override not applied: " + GemmWeightStream.KC);
            }
            GemmKernel kernel = new GemmVector();
            SplittableRandom pick = new SplittableRandom(683);
            for (int k : new int[] {683, 700, 1366, 2049}) {
                for (int m : new int[] {17, 40, 65}) {
                    check(kernel, DType.BF16, m, 13, k, pick.nextLong(), 1, false);
                    check(kernel, DType.F32, m, 25, k, pick.nextLong(), 1, true);
                }
            }
            System.out.println("odd kc ok");
        }
    }

    // C = X·Wᵀ for X [m, k] heap, W [n, k] in dtype dt (native, or a heap float[] for F32), C prefilled with garbage
    // that must be overwritten.
    private static void check(GemmKernel kernel, DType dt, int m, int n, int k, long seed, int threads, boolean heap) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        int bytes = dt == DType.F32 ? 4 : 2;
        MemorySegment w = heap ? MemorySegment.ofArray(new float[Math.max(1, n * k)])
                : Arena.ofAuto().allocate(Math.max(1, (long) n * k * bytes), 64);
        float[] wv = new float[n * k];                 // the stored (rounded) weight values, for the oracle
        for (int i = 0; i < wv.length; i++) {
            float v = (float) rng.nextGaussian();
            if (dt == DType.F32) {
                w.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                wv[i] = v;
            } else if (dt == DType.BF16) {
                short h = (short) (Float.floatToRawIntBits(v) >>> 16);
                w.setAtIndex(ValueLayout.JAVA_SHORT, i, h);
                wv[i] = Float.intBitsToFloat(h << 16);
            } else {
                short h = Float.floatToFloat16(v);
                w.setAtIndex(ValueLayout.JAVA_SHORT, i, h);
                wv[i] = Float.float16ToFloat(h);
            }
        }
        float[] c = new float[m * n];
        java.util.Arrays.fill(c, Float.NaN);
        kernel.gemm(m, n, k, x, 0, k, w, dt, 0, k, 1, c, 0, n);
        GemmOracle.checkProduct(c, x, wv, m, n, k,
                dt + " m=" + m + " n=" + n + " k=" + k + " threads=" + threads + " seed=" + seed);
    }
}
