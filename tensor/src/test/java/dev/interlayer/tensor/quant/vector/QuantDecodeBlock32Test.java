package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.BlockFormats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The vector Q8_0 and Q4_0 row decoders ({@link QuantDecode}, the prefill's dequantization) give exactly the floats
 * of {@link BlockFormat#dequantizeRow}: each value is one single-precision product code·d on both paths, so bit
 * for bit. Random codes (every byte) with block scales random, zero, the largest f16 and the smallest subnormals;
 * 0, 1, 2, 3 and 9 blocks at odd byte and output offsets, nothing written around the output.
 */
class QuantDecodeBlock32Test {
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0"})
    void rowIsTheScalarDecodersFloats(DType t) {
        BlockFormat f = BlockFormats.of(t);
        Random r = new Random(32);
        for (int nb : new int[] {0, 1, 2, 3, 9}) {
            int k = 32 * nb, out0 = 5;
            long base = 3 + r.nextInt(f.blockBytes());              // a row that does not start the segment
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = BlockRows.randomBytes(arena, r, base + f.rowBytes(k));
                for (int b = 0; b < nb; b++) {
                    w.set(ValueLayout.JAVA_SHORT_UNALIGNED, base + (long) f.blockBytes() * b,
                            BlockRows.f16Scale(r, b, 0.02));
                }
                float[] got = new float[out0 + k + 3], want = new float[k];
                java.util.Arrays.fill(got, Float.NaN);
                QuantDecode.row(f, w, base, k, got, out0);
                f.dequantizeRow(w, base, k, want, 0);
                for (int i = 0; i < k; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[out0 + i]),
                            t + " value " + i + " of " + nb + " blocks: " + want[i] + " vs " + got[out0 + i]);
                }
                for (int i : new int[] {0, out0 - 1, out0 + k, out0 + k + 2}) {
                    assertEquals(Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(got[i]),
                            t + " wrote slot " + i + " outside the row of " + nb + " blocks");
                }
            }
        }
    }
}
