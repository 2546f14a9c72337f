package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.BlockFormats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Q6_K vector kernels fold the code offset into the scale FMA ({@code fma(q, d·sc, −32·d·sc)}) and take codes
 * apart with a rotation; the claim is that this gives exactly the floats of the scalar oracle's
 * {@code (q − 32)·(d·sc)} (up to the sign of zero terms, which an FMA chain from +0 cannot see). Checked bit for bit, not within a tolerance: (1) the vector dequantization
 * ({@link QuantDecode}) against {@link BlockFormat#dequantizeRow}, (2) the decode kernels (two-row tile and the
 * single leftover row, n = 1, 2, 3, 5) against the {@link TileDriver} sequence written out in scalar code: one
 * {@code Math.fma} chain per lane over the oracle's floats in element order, then {@link QSpecies#hsum}. Rows are
 * random bytes (every code, every int8 scale including −128) with super-block scales d random, zero, the largest
 * f16 (65504) and the smallest subnormal f16.
 */
class Q6KDecodeExactTest {
    @Test
    void decodeIsTheOracleFloatsInOneFmaChainPerLane() {
        BlockFormat f = BlockFormats.of(DType.Q6_K);
        Random r = new Random(12);
        int vl = QSpecies.VL;
        for (int k : new int[] {256, 768}) {
            for (int n : new int[] {1, 2, 3, 5}) {
                long rb = f.rowBytes(k);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment w = BlockRows.randomBytes(arena, r, n * rb);
                    for (int sb = 0; sb < n * k / 256; sb++) {
                        w.set(ValueLayout.JAVA_SHORT_UNALIGNED, 210L * sb + 208, BlockRows.f16Scale(r, sb, 1e-3));
                    }
                    float[] x = new float[k];
                    for (int i = 0; i < k; i++) {
                        x[i] = (float) r.nextGaussian();
                    }
                    float[] c = new float[n], s = new float[TileDriver.scratch(k)];
                    TileDriver.decode(TileDriver.Q6_K, k, x, 0, w, 0, rb, s, c, 0, 0, n);
                    float[] want = new float[k], got = new float[k], lanes = new float[vl];
                    for (int j = 0; j < n; j++) {
                        f.dequantizeRow(w, j * rb, k, want, 0);
                        QuantDecode.row(f, w, j * rb, k, got, 0);
                        for (int i = 0; i < k; i++) {
                            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                                    "dequantized value " + i + " of row " + j + ", k=" + k);
                        }
                        java.util.Arrays.fill(lanes, 0f);
                        for (int i = 0; i < k; i++) {
                            lanes[i % vl] = Math.fma(want[i], x[i], lanes[i % vl]);
                        }
                        assertEquals(Float.floatToRawIntBits(QSpecies.hsum(lanes, 0)), Float.floatToRawIntBits(c[j]),
                                "decode of row " + j + " of " + n + ", k=" + k + ": " + c[j]);
                    }
                }
            }
        }
    }
}
