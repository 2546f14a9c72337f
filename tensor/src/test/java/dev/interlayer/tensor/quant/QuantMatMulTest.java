package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.testing.PoolSizes;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The active quantized kernels ({@link QuantMatMul#ACTIVE}: Vector API when present) and the scalar
 * oracle against a double-precision dot of the reference dequantization, for every format, odd row
 * counts (1, 3, 7, 13), k of one and three blocks, m = 1..17 (decode, exact-row and prefill paths) and m = 37 with k = 1280, on 1 and 2
 * threads, with outputs at an offset and a row stride larger than n (untouched entries stay NaN).
 *
 * <p>Tolerance: the kernels sum k products in another order than the oracle, and apply the block
 * scale (and K-quant min) to partial sums instead of to each value; in single precision that is within
 * {@code (k + 8)·2^-24} relative to {@code Σ_p (|w_p| + A)·|x_p|}, A = max|w| over the row, which
 * covers the sub-block offsets {@code dmin·m} the fused kernels fold in separately. We allow 8× that.
 * One wrong element would cost about {@code Σ|w x| / k}, far above it.
 */
class QuantMatMulTest {
    private static final int[] ROWS = {1, 3, 7, 13};

    @AfterEach
    void restoreThreads() {
        ComputePool.setThreads(ComputePool.threads());
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K",
            "Q4_K", "Q5_K", "Q6_K", "IQ4_XS"})
    void kernelsMatchTheDequantizingOracle(DType t) {
        BlockFormat f = BlockFormats.of(t);
        Random r = new Random(t.ordinal() * 31L + 5);
        PoolSizes.oneAndTwo(threads -> {
            for (int kBlocks : new int[] {1, 3}) {
                int k = kBlocks * f.blockSize();
                for (int n : ROWS) {
                    MemorySegment w = QuantTestData.randomRows(t, n, k, r);
                    for (int m = 1; m <= 17; m += (n == 13 ? 1 : 4)) {
                        QuantCheck.check(f, w, n, k, m, r, QuantMatMul.ACTIVE);
                        if (m <= 2) {
                            QuantCheck.check(f, w, n, k, m, r, QuantRows.SCALAR);
                        }
                    }
                }
            }
            // large enough (2·m·n·k ≥ 2^18 flops) to be split over the pool in 4-row tiles, n not a multiple of 4
            int k = 2 * 256;
            MemorySegment w = QuantTestData.randomRows(t, 301, k, r);
            QuantCheck.check(f, w, 301, k, 1, r, QuantMatMul.ACTIVE);
            QuantCheck.check(f, w, 301, k, 5, r, QuantMatMul.ACTIVE);
            // the prefill path (m > GemmKernel.ROW_EXACT_MAX = 16): k over several of its 512-value steps and
            // a partial one, m and n with remainders of its 4 x 4 tiles and 16-row panels
            int kp = 1280 / f.blockSize() * f.blockSize();
            MemorySegment wp = QuantTestData.randomRows(t, 23, kp, r);
            QuantCheck.check(f, wp, 23, kp, 37, r, QuantMatMul.ACTIVE);
        });
    }

    @org.junit.jupiter.api.Test
    void vectorKernelsAreActiveWhenTheModuleIsPresent() {
        boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                && !"0".equals(System.getProperty("dev.interlayer.simd.bits"));
        assertEquals(vector, QuantMatMul.ACTIVE.name().startsWith("simd-"), QuantMatMul.ACTIVE.name());
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q6_K", "Q5_K", "IQ4_XS"})
    void zeroRowsOrActivationsWriteNothing(DType t) {
        BlockFormat f = BlockFormats.of(t);
        float[] c = {7f};
        QuantMatMul.matmulT(f, 0, 1, f.blockSize(), new float[f.blockSize()], 0, f.blockSize(),
                MemorySegment.ofArray(new byte[t.blockBytes()]), 0, c, 0, 1);
        assertArrayEquals(new float[] {7f}, c);
    }
}
