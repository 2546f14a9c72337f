package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.BlockFormats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vector Q4_K row decoder ({@link QuantDecode}, the prefill's dequantization) unpacks the twelve 6-bit
 * scale/min bytes from one long and one int. Checked bit for bit against a scalar decoding written here from the
 * format (ggml's {@code get_scale_min_k4}: scale j is the low 6 bits of byte j for j &lt; 4, else the low nibble of
 * byte j + 4 with the top two bits of byte j − 4; min j likewise from bytes j + 4 and j) computing each value as
 * the decoder documents, {@code fma(q, d·sc, −dmin·m)}; and against {@link BlockFormat#dequantizeRow} (two
 * roundings) within one rounding of the terms. Scale bytes random, all zero and all 0xFF; d and dmin random,
 * zero, the largest f16 and the smallest subnormal; 1, 2, 3 and 7 super-blocks at odd byte and output offsets.
 */
class Q4KDecodeTest {
    @Test
    void rowIsTheFormatsValuesInOneFmaEach() {
        BlockFormat f = BlockFormats.of(DType.Q4_K);
        Random r = new Random(4);
        for (int sbs : new int[] {1, 2, 3, 7}) {
            int k = 256 * sbs;
            long base = 144L * (1 + r.nextInt(3));              // a row that does not start the segment
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w = BlockRows.randomBytes(arena, r, base + f.rowBytes(k));
                for (int sb = 0; sb < sbs; sb++) {
                    long o = base + 144L * sb;
                    for (int h = 0; h < 2; h++) {                // d, then dmin
                        w.set(ValueLayout.JAVA_SHORT_UNALIGNED, o + 2 * h, BlockRows.f16Scale(r, 2 * sb + h, 1e-2));
                    }
                    int pattern = sb % 3;                       // random, all zero, all 0xFF scale bytes
                    for (int b = 0; b < 12 && pattern > 0; b++) {
                        w.set(ValueLayout.JAVA_BYTE, o + 4 + b, (byte) (pattern == 1 ? 0 : 0xFF));
                    }
                }
                int out0 = 3;
                float[] got = new float[out0 + k], oracle = new float[k];
                QuantDecode.row(f, w, base, k, got, out0);
                f.dequantizeRow(w, base, k, oracle, 0);
                for (int sb = 0; sb < sbs; sb++) {
                    long o = base + 144L * sb;
                    float d = Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, o));
                    float dmin = Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, o + 2));
                    for (int i = 0; i < 256; i++) {
                        int j = i / 32, c = i / 64, l = i % 32;
                        int qb = w.get(ValueLayout.JAVA_BYTE, o + 16 + 32 * c + l) & 0xFF;
                        int q = (j & 1) == 0 ? qb & 15 : qb >>> 4;
                        float want = Math.fma(q, d * scale(w, o + 4, j), -(dmin * min(w, o + 4, j)));
                        int at = 256 * sb + i;
                        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[out0 + at]),
                                "value " + i + " of super-block " + sb + " of " + sbs + ": " + got[out0 + at]);
                        float tol = Math.ulp(Math.abs(q * d * scale(w, o + 4, j)) + Math.abs(dmin * min(w, o + 4, j)));
                        assertTrue(Math.abs(oracle[at] - got[out0 + at]) <= 2 * tol,
                                "against dequantizeRow at " + at + ": " + oracle[at] + " vs " + got[out0 + at]);
                    }
                }
                assertEquals(0f, got[0] + got[1] + got[2], "nothing written before the output offset");
            }
        }
    }

    private static int u8(MemorySegment w, long at) {
        return w.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    private static int scale(MemorySegment w, long s, int j) {
        return j < 4 ? u8(w, s + j) & 63 : (u8(w, s + j + 4) & 0x0F) | ((u8(w, s + j - 4) >> 6) << 4);
    }

    private static int min(MemorySegment w, long s, int j) {
        return j < 4 ? u8(w, s + j + 4) & 63 : (u8(w, s + j + 4) >> 4) | ((u8(w, s + j) >> 6) << 4);
    }
}
