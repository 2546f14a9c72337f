package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.UnsupportedDTypeException;
import java.util.EnumMap;
import java.util.Map;

/** The {@link BlockFormat} of each block-quantized {@link DType}. */
public final class BlockFormats {
    private static final Map<DType, BlockFormat> FORMATS = new EnumMap<>(DType.class);

    static {
        for (BlockFormat f : new BlockFormat[] {new Block32Formats.Q8_0(), new Block32Formats.Q4_0(),
                new Block32Formats.Q4_1(), new Block32Formats.Q5_0(), new Block32Formats.Q5_1(),
                new Block32Formats.Iq4Nl(), new KQuantFormats.Q2_K(), new KQuantFormats.Q3_K(),
                new KQuantFormats.Q4_K(), new KQuantFormats.Q5_K(), new KQuantFormats.Q6_K(),
                new KQuantFormats.Iq4Xs()}) {
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
