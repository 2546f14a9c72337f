package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Properties of the Q2_K and Q3_K writers beyond the byte-exact comparison with ggml
 * ({@link GgufPyFixturesTest#quantizationEqualsGgmlReferenceBytes}).
 *
 * <p>Not asserted, because ggml's rounding does not guarantee it: that quantizing the dequantized values
 * of an arbitrary row again gives the same bytes. The scale searches re-fit the grid points, and a
 * probe over 192 random super-blocks changed 22 (Q2_K) and 63 (Q3_K) of them; ggml's own Q4_K/Q5_K/Q6_K
 * behave alike (1, 34 and 39 of 192). What is guaranteed is asserted: values that lie on the format's
 * grid with exactly representable scales come back unchanged and re-quantize to the same bytes.
 */
class LowBitKQuantizerTest {
    /**
     * Max (1960) optimal uniform quantizer for a unit Gaussian: mean squared error 0.1188 with 4 levels
     * and 0.03744 with 8. Q2_K (4 levels) and Q3_K (8 levels) choose a scale per 16 values, which can only
     * fit a sample better than one scale chosen for the whole distribution, so their relative RMS error on
     * Gaussian rows must stay below sqrt of these (measured: 0.295 and 0.151).
     */
    private static final double Q2_K_BOUND = Math.sqrt(0.1188), Q3_K_BOUND = Math.sqrt(0.03744);

    private static float[] roundTrip(DType t, float[] x, byte[] q) {
        Quantizer.quantizeRow(t, x, 0, x.length, MemorySegment.ofArray(q), 0);
        float[] y = new float[x.length];
        BlockFormats.of(t).dequantizeRow(MemorySegment.ofArray(q), 0, x.length, y, 0);
        return y;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q2_K", "Q3_K"})
    void gaussianErrorBelowTheBestSingleUniformQuantizer(DType t) {
        Random r = new Random(12);
        float[] x = new float[256 * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        float[] y = roundTrip(t, x, new byte[(int) t.byteSize(x.length)]);
        double se = 0, sx = 0;
        for (int i = 0; i < x.length; i++) {
            se += (x[i] - y[i]) * (double) (x[i] - y[i]);
            sx += x[i] * (double) x[i];
        }
        double rel = Math.sqrt(se / sx), bound = t == DType.Q2_K ? Q2_K_BOUND : Q3_K_BOUND;
        assertTrue(rel < bound, t + " relative RMS error " + rel + " >= " + bound);
        assertTrue(rel > 0.5 * bound, t + " relative RMS error " + rel + " implausibly small (not quantizing?)");
    }

    /**
     * Q3_K grid: sub-block j holds {@code D·m_j·q}, q in [−4, 3] with −4 present (so ggml's first guess
     * {@code −4/max} is already the scale), m_j in [1, 32] with one sub-block at 32 (the super-block scale
     * then stores m_j exactly), D a power of two (every product exact; f16 holds −D exactly).
     */
    @Test
    void q3KGridValuesRoundTripExactly() {
        Random r = new Random(3);
        for (int trial = 0; trial < 20; trial++) {
            assertGridRoundTrip(DType.Q3_K, grid(r, 32, -4, 3), trial);
        }
    }

    /**
     * Q2_K grid: sub-block j holds {@code u·m_j·q}, q in [1, 3] with 1 and 3 present (ggml clamps the min
     * to 0, the range is 3·u·m_j, so its first guess fits exactly), m_j in [1, 15] with one at 15, u a power
     * of two so that the stored super-block scale {@code 15·u/15} is exact in f16. Code 0 is left out on
     * purpose: ggml weighs each value by |x|, so zeros do not count in the fit and another scale can tie
     * (a probe with zeros stored 16·u instead of 15·u for some blocks).
     */
    @Test
    void q2KGridValuesRoundTripExactly() {
        Random r = new Random(2);
        for (int trial = 0; trial < 20; trial++) {
            assertGridRoundTrip(DType.Q2_K, grid(r, 15, 1, 3), trial);
        }
    }

    /**
     * Two super-blocks of {@code u·m_j·q}: u = 2^−k, sub-block multipliers m_j in [1, mMax] with one at mMax
     * per super-block, codes q in [qLo, qHi] with both ends present in every sub-block.
     */
    private static float[] grid(Random r, int mMax, int qLo, int qHi) {
        float unit = (float) Math.scalb(1.0, -r.nextInt(12));
        float[] x = new float[512];
        for (int b = 0; b < 2; b++) {
            int big = r.nextInt(16);
            for (int j = 0; j < 16; j++) {
                int m = j == big ? mMax : 1 + r.nextInt(mMax);
                for (int i = 0; i < 16; i++) {
                    int q = i == 0 ? qLo : i == 1 ? qHi : qLo + r.nextInt(qHi - qLo + 1);
                    x[256 * b + 16 * j + i] = unit * m * q;
                }
            }
        }
        return x;
    }

    private static void assertGridRoundTrip(DType t, float[] x, int trial) {
        byte[] q = new byte[(int) t.byteSize(x.length)], again = new byte[q.length];
        float[] y = roundTrip(t, x, q);
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], y[i], 0.0f, t + " trial " + trial + " element " + i + " (exactly on the grid)");
        }
        roundTrip(t, y, again);
        assertArrayEquals(q, again, t + " trial " + trial + ": re-quantizing grid values changed the bytes");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q2_K", "Q3_K"})
    void zeroRowsGiveZeroBytesAndRejectPartialBlocks(DType t) {
        float[] x = new float[256];
        x[7] = -0.0f;
        byte[] q = new byte[t.blockBytes()];
        float[] y = roundTrip(t, x, q);
        assertArrayEquals(new byte[t.blockBytes()], q, t + ": zero block");
        assertArrayEquals(new float[256], y, t + ": zero block dequantizes to +0");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Quantizer.quantizeRow(t, new float[300], 0, 300, MemorySegment.ofArray(new byte[200]), 0));
        assertTrue(e.getMessage().contains(t.toString()) && e.getMessage().contains("300"), e.getMessage());
    }
}
