package dev.interlayer.tensor;

/**
 * Conversions between F32 and the 16-bit float formats, round-to-nearest-even, NaN and Inf kept.
 */
public final class FloatFormats {
    private FloatFormats() {
    }

    /** IEEE binary16 bits to float (exact). */
    public static float f16ToF32(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Float to IEEE binary16 bits, round-to-nearest-even; overflow becomes Inf, NaN stays NaN. */
    public static short f32ToF16(float f) {
        return Float.floatToFloat16(f);
    }

    /** bfloat16 bits to float (exact: the high half of an F32). */
    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Float to bfloat16 bits, round-to-nearest-even; NaN stays a quiet NaN (sign kept). */
    public static short f32ToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((x >>> 16) | 0x0040); // quiet NaN; keep sign and payload top bits
        }
        int lsb = (x >>> 16) & 1;
        int rounded = x + 0x7FFF + lsb;
        return (short) (rounded >>> 16);
    }
}
