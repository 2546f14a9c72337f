package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.testing.PoolSizes;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The prefill path (m &gt; {@code GemmKernel.ROW_EXACT_MAX} = 16: {@code quant.vector.QuantPrefill}) against the
 * double-precision oracle of {@link QuantCheck} (its tolerance, derived in {@link QuantMatMulTest}), at the edges
 * of its tiles: 12 weight rows by 2 vectors of tokens (32 at 512 bits; the narrower widths'
 * 16 and 8 run at m = 17 in {@link QuantWidthsTest}), so n = 1, 11, 12, 13, 37 and m = 17, 31, 32, 33, 69; k in one step and in two
 * steps of its k blocking (KC = 2048 values: 2304 = 9 super-blocks in steps of 1280 and 1024 (whole super-blocks), and for the block-32
 * formats 2080 = 65 blocks in steps of 1056 and 1024). Weights off-heap (the vector decoders) and on the heap (the
 * scalar dequantization), on 1 and 2 threads, and a thread's share called directly through {@link QuantRows#rows}.
 */
class QuantPrefillTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "IQ4_NL", "Q2_K", "Q4_K", "Q5_K",
            "Q6_K", "IQ4_XS"})
    void prefillMatchesTheDequantizingOracle(DType t) {
        BlockFormat f = BlockFormats.of(t);
        Random r = new Random(t.ordinal() * 17L + 3);
        PoolSizes.oneAndTwo(threads -> {
            int kSmall = 3 * 256;
            for (int n : new int[] {1, 11, 12, 13}) {
                MemorySegment w = QuantTestData.randomRows(t, n, kSmall, r);
                for (int m : new int[] {17, 31, 32, 33}) {
                    QuantCheck.check(f, w, n, kSmall, m, r, QuantMatMul.ACTIVE);
                }
            }
            int[] ks = f.blockSize() == 32 ? new int[] {2304, 2080} : new int[] {2304};
            for (int k : ks) {
                MemorySegment w = QuantTestData.randomRows(t, 37, k, r);
                QuantCheck.check(f, w, 37, k, 69, r, QuantMatMul.ACTIVE);
                QuantCheck.check(f, QuantTestData.onHeap(w), 37, k, 33, r, QuantMatMul.ACTIVE);
            }
        });
    }

    /** One thread's share [j0, j1) through rows(): only those columns are written, each within the oracle's tolerance. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q6_K", "Q8_0"})
    void aShareOfTheRowsWritesOnlyItsColumns(DType t) {
        BlockFormat f = BlockFormats.of(t);
        Random r = new Random(11);
        int n = 29, k = 512, m = 21, j0 = 5, j1 = 22;
        MemorySegment w = QuantTestData.randomRows(t, n, k, r);
        float[] a = QuantTestData.gaussian(m * k, r);
        float[] c = new float[m * n], want = new float[m * n];
        Arrays.fill(c, Float.NaN);
        QuantMatMul.ACTIVE.rows(f, m, k, a, 0, k, w, 0, f.rowBytes(k), c, 0, n, j0, j1);
        QuantRows.SCALAR.rows(f, m, k, a, 0, k, w, 0, f.rowBytes(k), want, 0, n, 0, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float got = c[i * n + j];
                if (j < j0 || j >= j1) {
                    assertTrue(Float.isNaN(got), "wrote column " + j + " outside [" + j0 + ", " + j1 + ")");
                } else {
                    // the scalar oracle and the kernel sum in other orders: QuantMatMulTest's tolerance
                    float[] row = new float[k];
                    f.dequantizeRow(w, j * f.rowBytes(k), k, row, 0);
                    double amax = 0, mag = 0;
                    for (float v : row) {
                        amax = Math.max(amax, Math.abs(v));
                    }
                    for (int p = 0; p < k; p++) {
                        mag += (Math.abs(row[p]) + amax) * Math.abs(a[i * k + p]);
                    }
                    assertEquals(want[i * n + j], got, 8 * (k + 8) * 0x1p-24 * mag, t + " " + i + "," + j);
                }
            }
        }
    }

    @Test
    void zeroRowsWriteNothing() {
        BlockFormat f = BlockFormats.of(DType.Q4_K);
        float[] c = {7f};
        QuantMatMul.ACTIVE.rows(f, 0, 256, new float[256], 0, 256, MemorySegment.ofArray(new byte[144]), 0, 144,
                c, 0, 1, 0, 1);
        assertEquals(7f, c[0]);
    }
}
