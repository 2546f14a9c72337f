package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link QSpecies#hsum} (vector adds of rotations) is the specified fixed-order sum, {@code r[i] += r[i + h]} for
 * h = VL/2 .. 1 then r[0]: every quantized kernel reduces its accumulators with it, and batched decode is
 * row-exact only because they all reduce in this one order. Compared bit for bit with that scalar loop (the
 * same IEEE additions of the same operands, so equality is by construction, not by luck), on inputs where
 * another order gives another float: huge values that cancel, mixed magnitudes, signed zeros, infinities.
 */
class QSpeciesHsumTest {

    @Test
    void equalsTheHalvingOrderBitForBit() {
        Random r = new Random(5);
        int vl = QSpecies.VL;
        float[] specials = {0f, -0f, 1e30f, -1e30f, 1f, Float.MIN_VALUE, 3e-39f, Float.POSITIVE_INFINITY};
        int orderSensitive = 0;
        for (int round = 0; round < 2000; round++) {
            float[] v = new float[vl + 3];
            for (int i = 0; i < v.length; i++) {
                v[i] = switch (round % 4) {
                    case 0 -> (float) r.nextGaussian();
                    case 1 -> (float) (r.nextGaussian() * Math.pow(10, r.nextInt(16) - 8));
                    case 2 -> specials[r.nextInt(specials.length - (round % 8 == 2 ? 0 : 1))];
                    default -> (r.nextBoolean() ? 1e8f : -1e8f) + r.nextInt(7);
                };
            }
            int o = round % 4;
            float expected = halving(v.clone(), o, vl), sequential = 0;
            for (int i = 0; i < vl; i++) {
                sequential += v[o + i];
            }
            if (Float.floatToRawIntBits(sequential) != Float.floatToRawIntBits(expected)) {
                orderSensitive++;
            }
            float got = QSpecies.hsum(v.clone(), o);
            int rr = round;
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got),
                    () -> "round " + rr + ": hsum " + got + " vs halving order " + expected);
        }
        // the inputs do tell summation orders apart (else equality would prove nothing about the order)
        assertTrue(orderSensitive > 100, "order-sensitive inputs: " + orderSensitive);
    }

    private static float halving(float[] r, int o, int vl) {
        for (int h = vl / 2; h >= 1; h >>= 1) {
            for (int i = 0; i < h; i++) {
                r[o + i] += r[o + i + h];
            }
        }
        return r[o];
    }
}
