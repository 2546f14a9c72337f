package dev.interlayer.nn;

import java.util.Locale;

/**
 * Storage type of a {@link KvCache}'s keys and values. Entries are written in this type when a chunk is appended
 * and widened to F32 when attention reads them.
 *
 * <ul>
 * <li>{@link #F32}: 4 bytes per value, exact (the default; the attention kernels read the arrays directly).
 * <li>{@link #F16}: IEEE binary16, 2 bytes per value, round-to-nearest-even (relative rounding error ≤ 2⁻¹¹
 *     inside the normal range).
 * <li>{@link #Q8_0}: GGML Q8_0 blocks of 32 values along the head dimension (an f16 scale d = amax/127 and 32
 *     int8 codes, 34 bytes per 32 values, 8.5 bits per value; error ≤ d/2 per value plus the scale's f16
 *     rounding), with ggml's reference rounding ({@code quantize_row_q8_0_ref}, see ../shared/docs/QUANTIZATION.md).
 *     Blocks never straddle two heads: the head dimension must be a multiple of 32, other layers are refused
 *     with an error naming the head dimension.
 * </ul>
 */
public enum KvType {
    /** 32-bit floats (default). */
    F32,
    /** IEEE half precision. */
    F16,
    /** GGML Q8_0 blocks of 32 along the head dimension. */
    Q8_0;

    /** Values per Q8_0 block. */
    public static final int Q8_BLOCK = 32;
    private static final int Q8_BLOCK_BYTES = 34;

    /**
     * Bytes one cache row of {@code kvDim} values takes: 4·kvDim, 2·kvDim, or 34·kvDim/32.
     *
     * @throws IllegalArgumentException for Q8_0 when kvDim is not a multiple of 32
     */
    public long rowBytes(int kvDim) {
        return switch (this) {
            case F32 -> 4L * kvDim;
            case F16 -> 2L * kvDim;
            case Q8_0 -> {
                if (kvDim % Q8_BLOCK != 0) {
                    throw new IllegalArgumentException("KV cache type q8_0 stores blocks of " + Q8_BLOCK
                            + " values; kvDim " + kvDim + " is not a multiple of " + Q8_BLOCK);
                }
                yield (long) kvDim / Q8_BLOCK * Q8_BLOCK_BYTES;
            }
        };
    }

    /**
     * Checks that a layer with this head dimension can be stored in this type (Q8_0: a multiple of 32).
     *
     * @throws IllegalArgumentException naming the layer and its head dimension otherwise
     */
    public void requireHeadDim(int layer, int headDim) {
        if (this == Q8_0 && headDim % Q8_BLOCK != 0) {
            throw new IllegalArgumentException("KV cache type q8_0 stores blocks of " + Q8_BLOCK
                    + " values along the head dimension, but layer " + layer + " has head dim " + headDim
                    + " (not a multiple of " + Q8_BLOCK + "); use f16 or f32");
        }
    }

    /** The lower-case name used on command lines ({@code f32}, {@code f16}, {@code q8_0}). */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The type named {@code name} (case-insensitive: f32, f16, q8_0).
     *
     * @param what what the value was given as, for the message (e.g. "--kv-type")
     * @throws IllegalArgumentException naming {@code what}, the value and the allowed values
     */
    public static KvType parse(String what, String name) {
        for (KvType t : values()) {
            if (t.cliName().equals(name == null ? null : name.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException(what + ": unknown KV cache type '" + name + "'; allowed: f32, f16, q8_0");
    }
}
