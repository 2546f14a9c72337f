package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.interlayer.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link BlockFormat#firstNonFiniteScale} finds a NaN or infinite f16 in every scale field of every
 * format (d, dmin or m, at the offsets ggml's block structs put them) and nothing in finite blocks,
 * where a subnormal or the largest finite half (65504) is still accepted.
 */
class ScaleCheckTest {
    private static final short NAN = 0x7E00, INF = 0x7C00, NEG_INF = (short) 0xFC00, MAX = 0x7BFF, SUB = 0x0001;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K",
            "Q4_K", "Q5_K", "Q6_K", "IQ4_XS"})
    void everyScaleFieldIsChecked(DType t) {
        BlockFormat f = BlockFormats.of(t);
        MemorySegment s = QuantTestData.randomRows(t, 1, 4 * t.blockSize(), new Random(3));
        assertEquals(-1, f.firstNonFiniteScale(s, 0, 4));
        for (int field : QuantTestData.scaleOffsets(t)) {
            long at = 2L * t.blockBytes() + field;
            s.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, MAX);
            s.set(ValueLayout.JAVA_SHORT_UNALIGNED, t.blockBytes() + field, SUB);
            assertEquals(-1, f.firstNonFiniteScale(s, 0, 4), t + " finite extremes");
            for (short bad : new short[] {NAN, INF, NEG_INF}) {
                short keep = s.get(ValueLayout.JAVA_SHORT_UNALIGNED, at);
                s.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, bad);
                assertEquals(2, f.firstNonFiniteScale(s, 0, 4), t + " field at " + field);
                assertEquals(-1, f.firstNonFiniteScale(s, 0, 2), t + " only the first two blocks");
                s.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, keep);
            }
        }
    }
}
