package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.UnsupportedDTypeException;
import java.util.EnumMap;
import java.util.Map;

/** The {@link BlockFormat} of each block-quantized {@link DType}. */
public final class BlockFormats {
    private static final Map<DType, BlockFormat> FORMATS = new EnumMap<>(DType.class);

    static {
        // Each format's f16 scale fields (d, and dmin or m) are checked by firstNonFiniteScale.
        for (BlockFormat f : new BlockFormat[] {
                new BlockFormat(DType.Q8_0, Block32Formats::q8_0, 0),
                new BlockFormat(DType.Q4_0, Block32Formats::q4_0, 0),
                new BlockFormat(DType.Q4_1, Block32Formats::q4_1, 0, 2),
                new BlockFormat(DType.Q5_0, Block32Formats::q5_0, 0),
                new BlockFormat(DType.Q5_1, Block32Formats::q5_1, 0, 2),
                new BlockFormat(DType.IQ4_NL, Block32Formats::iq4Nl, 0),
                new BlockFormat(DType.Q2_K, KQuantFormats::q2_K, 80, 82),
                new BlockFormat(DType.Q3_K, KQuantFormats::q3_K, 108),
                new BlockFormat(DType.Q4_K, KQuantFormats::q4_K, 0, 2),
                new BlockFormat(DType.Q5_K, KQuantFormats::q5_K, 0, 2),
                new BlockFormat(DType.Q6_K, KQuantFormats::q6_K, 208),
                new BlockFormat(DType.IQ4_XS, KQuantFormats::iq4Xs, 0)}) {
            FORMATS.put(f.dtype(), f);
        }
    }

    private BlockFormats() {
    }

    /** True if {@code t} is a block format this package reads. */
    public static boolean supports(DType t) {
        return FORMATS.containsKey(t);
    }

    /**
     * The codec of {@code t}.
     *
     * @throws UnsupportedDTypeException if {@code t} is not block-quantized
     */
    public static BlockFormat of(DType t) {
        BlockFormat f = FORMATS.get(t);
        if (f == null) {
            throw new UnsupportedDTypeException("block format", t, FORMATS.keySet().toArray(DType[]::new));
        }
        return f;
    }
}
