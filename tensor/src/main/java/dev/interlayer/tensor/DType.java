package dev.interlayer.tensor;

/**
 * Element types of tensors, with their storage geometry.
 *
 * <p>The order is stable. Scalar types have a block size of 1; GGML-style block-quantized types
 * store {@code blockSize} values in {@code blockBytes} bytes, and only whole blocks can be stored
 * ({@link BlockGeometry.Typed#byteSize}).
 */
public enum DType implements BlockGeometry.Typed {
    /** IEEE 754 binary32. */
    F32(1, 4),
    /** IEEE 754 binary16 (half). */
    F16(1, 2),
    /** bfloat16: the upper 16 bits of an F32 (8-bit exponent, 7-bit mantissa). */
    BF16(1, 2),
    /** Signed 32-bit integer. */
    I32(1, 4),
    /** Signed 64-bit integer. */
    I64(1, 8),
    /** Signed 8-bit integer. */
    I8(1, 1),
    /** GGML Q8_0: 32 values = f16 scale + 32 int8. */
    Q8_0(32, 34),
    /** GGML Q4_0: 32 values = f16 scale + 16 bytes of nibbles. */
    Q4_0(32, 18),
    /** GGML Q4_K: 256-value super-block. */
    Q4_K(256, 144),
    /** GGML Q6_K: 256-value super-block. */
    Q6_K(256, 210),
    /** GGML Q4_1: 32 values = f16 scale + f16 min + 16 bytes of nibbles. */
    Q4_1(32, 20),
    /** GGML Q5_0: 32 values = f16 scale + 4 bytes of fifth bits + 16 bytes of nibbles. */
    Q5_0(32, 22),
    /** GGML Q5_1: 32 values = f16 scale + f16 min + 4 bytes of fifth bits + 16 bytes of nibbles. */
    Q5_1(32, 24),
    /** GGML Q2_K: 256-value super-block of 2-bit codes, 16 sub-blocks with 4-bit scales and mins. */
    Q2_K(256, 84),
    /** GGML Q3_K: 256-value super-block of 3-bit codes, 16 sub-blocks with 6-bit signed scales. */
    Q3_K(256, 110),
    /** GGML Q5_K: 256-value super-block of 5-bit codes, 8 sub-blocks with 6-bit scales and mins. */
    Q5_K(256, 176),
    /** GGML IQ4_NL: 32 values = f16 scale + 16 bytes of 4-bit indices into a fixed non-linear grid. */
    IQ4_NL(32, 18),
    /** GGML IQ4_XS: 256-value super-block of IQ4_NL-grid indices, 8 sub-blocks with 6-bit scales. */
    IQ4_XS(256, 136);

    private final BlockGeometry geometry;

    DType(int blockSize, int blockBytes) {
        this.geometry = new BlockGeometry(blockSize, blockBytes);
    }

    @Override
    public BlockGeometry geometry() {
        return geometry;
    }

    /** True for F32, F16 and BF16. */
    public boolean isFloatingPoint() {
        return this == F32 || this == F16 || this == BF16;
    }
}
