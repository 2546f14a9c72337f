package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * F16 agrees with the JDK's Float.floatToFloat16/float16ToFloat everywhere (exhaustive over all 65536
 * half bit patterns, plus a float sweep); BF16 rounding is checked against an independent oracle that
 * rounds the exact decimal value with BigDecimal (RoundingMode.HALF_EVEN) onto the bf16 grid.
 */
class FloatFormatsTest {
    @Test
    void f16RoundTripIsExhaustivelyExact() {
        int nan = 0;
        for (int b = 0; b < 65536; b++) {
            short h = (short) b;
            float f = FloatFormats.f16ToF32(h);
            assertEquals(Float.float16ToFloat(h), f, 0f, "bits " + Integer.toHexString(b));
            short back = FloatFormats.f32ToF16(f);
            if (Float.isNaN(f)) {
                nan++;
                assertTrue(Float.isNaN(Float.float16ToFloat(back)), "NaN stays NaN: " + Integer.toHexString(b));
            } else {
                assertEquals(h, back, "round trip of bits " + Integer.toHexString(b) + " (" + f + ")");
            }
            // Through a tensor as well (the path kernels use).
            Tensor t = Tensor.zeros(DType.F16, Shape.of(1));
            t.setFloat(f, 0);
            assertEquals(Float.isNaN(f) ? Float.NaN : f, t.getFloat(0), 0f);
        }
        assertEquals(2 * 1023, nan); // 2 signs x (2^10 - 1) non-zero mantissas
    }

    @Test
    void f16FromFloatMatchesJdkForEveryValueClass() {
        SplittableRandom rng = new SplittableRandom(16);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(rng.nextInt()); // all classes: NaN, Inf, normals, subnormals, ties
            assertEquals(Float.floatToFloat16(f), FloatFormats.f32ToF16(f), "f16 of " + f);
        }
    }

    // Independent bf16 oracle: exact value -> BigDecimal -> nearest multiple of the bf16 spacing, ties to even.
    private static short bf16Oracle(float f) {
        if (Float.isNaN(f)) {
            return (short) 0x7FC0;
        }
        if (Float.isInfinite(f) || f == 0f) {
            return (short) (Float.floatToRawIntBits(f) >>> 16);
        }
        boolean neg = f < 0;
        BigDecimal x = new BigDecimal(Math.abs((double) f));
        int e = Math.max(Math.getExponent(Math.abs(f)), -126); // subnormals share the smallest spacing
        BigDecimal spacing = new BigDecimal(2).pow(e - 7 + 200).divide(new BigDecimal(2).pow(200)); // 2^(e-7), exact
        BigDecimal q = x.divide(spacing).setScale(0, RoundingMode.HALF_EVEN);
        double rounded = q.multiply(spacing).doubleValue(); // exact: at most 9 significant bits
        float r = (float) rounded; // may overflow to Inf, which is the correct bf16 result
        int bits = Float.floatToRawIntBits(neg ? -r : r);
        assertEquals(0, bits & 0xFFFF, "oracle produced a non-bf16 value for " + f);
        return (short) (bits >>> 16);
    }

    private static void checkBf16(float f) {
        short expected = bf16Oracle(f);
        short actual = FloatFormats.f32ToBf16(f);
        if (Float.isNaN(f)) {
            assertTrue(Float.isNaN(FloatFormats.bf16ToF32(actual)), "NaN must stay NaN, got " + Integer.toHexString(actual));
            assertEquals(Float.floatToRawIntBits(f) < 0, actual < 0, "NaN sign kept");
            return;
        }
        assertEquals(expected, actual, "bf16 of " + f + " (bits " + Integer.toHexString(Float.floatToRawIntBits(f)) + ")");
        assertEquals(Float.intBitsToFloat(expected << 16), FloatFormats.bf16ToF32(actual), 0f);
    }

    @Test
    void bf16RoundsToNearestEvenLikeTheBigDecimalOracle() {
        float[] special = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
                Float.intBitsToFloat(0xFFC00001), Float.intBitsToFloat(0x7F800001), // signalling NaN: must not become Inf
                Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
                Float.intBitsToFloat(0x7F7F8000), // halfway above the largest bf16 -> ties to even -> Inf
                Float.intBitsToFloat(0x00018000), Float.intBitsToFloat(0x00008000), Float.intBitsToFloat(0x007FFFFF)};
        for (float f : special) {
            checkBf16(f);
        }
        // Ties: exactly halfway between two bf16 values, both even and odd lower neighbours; and one ulp either side.
        SplittableRandom rng = new SplittableRandom(1616);
        for (int i = 0; i < 20_000; i++) {
            int hi = rng.nextInt() & 0xFFFF0000;
            for (int low : new int[] {0x8000, 0x7FFF, 0x8001, 0x0000, 0xFFFF, 0x0001}) {
                checkBf16(Float.intBitsToFloat(hi | low));
            }
        }
        for (int i = 0; i < 100_000; i++) {
            checkBf16(Float.intBitsToFloat(rng.nextInt()));
        }
    }

    @Test
    void bf16ToF32IsExhaustivelyExact() {
        for (int b = 0; b < 65536; b++) {
            float f = FloatFormats.bf16ToF32((short) b);
            assertEquals(b << 16, Float.floatToRawIntBits(f));
            if (!Float.isNaN(f)) {
                assertEquals((short) b, FloatFormats.f32ToBf16(f));
            }
        }
    }
}
