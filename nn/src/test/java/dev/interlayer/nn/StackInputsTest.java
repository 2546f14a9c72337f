package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The inputs the decoder families feed the stack: RoPE frequency divisors (GGUF rope_freqs), embedding rows from
 * a mapped half-precision table and from a range of a longer token array, and a stack run over such a range.
 */
class StackInputsTest {

    /** ω'_i = ω_i / (d_i · factor) with ω_i rounded to float first, against a scalar recomputation. */
    @Test
    void ropeDivisorsDivideTheStandardFrequencies() {
        SplittableRandom r = new SplittableRandom(31);
        for (int trial = 0; trial < 20; trial++) {
            int headDim = 2 * (1 + r.nextInt(40)), rotary = headDim - 2 * r.nextInt(headDim / 2);
            double theta = 1e4 * (1 + r.nextDouble() * 50), factor = trial % 2 == 0 ? 1.0 : 1 + r.nextDouble() * 7;
            float[] div = new float[rotary / 2];
            for (int i = 0; i < div.length; i++) {
                div[i] = (float) (1 + r.nextDouble() * 31);
            }
            float[] got = new RopeConfig(theta, Rope.Pairing.INTERLEAVED, rotary / (double) headDim,
                    new RopeScaling.Divisors(div, factor)).invFreq(headDim, 0);
            float[] plain = Rope.standard(headDim, rotary, theta, Rope.Pairing.INTERLEAVED).invFreq();
            for (int i = 0; i < div.length; i++) {
                float want = (float) ((double) plain[i] / div[i] / factor);
                // same operations in the same order: at most one float rounding apart
                assertEquals(want, got[i], Math.ulp(want), "trial " + trial + " pair " + i);
            }
        }
    }

    @Test
    void ropeDivisorsAreValidated() {
        RopeConfig wrongCount = new RopeConfig(1e4, Rope.Pairing.HALF_SPLIT, 1.0,
                new RopeScaling.Divisors(new float[] {1, 2, 3}, 1));
        var e = assertThrows(IllegalArgumentException.class, () -> wrongCount.invFreq(8, 0));
        assertTrue(e.getMessage().contains("3 given") && e.getMessage().contains("needs 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new RopeScaling.Divisors(new float[] {1, 0}, 1));
        assertTrue(e.getMessage().contains("divisor 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RopeScaling.Divisors(new float[] {1}, Double.NaN));
        float[] d = {2, 4};
        RopeScaling.Divisors kept = new RopeScaling.Divisors(d, 1);
        d[0] = 100;
        assertEquals(2f, kept.divisor(0), "the record copies its array");
    }

    /** Rows of a native BF16 table (as mapped from a file) and of an F32 heap table, from a token range. */
    @Test
    void lookupOfATokenRangeMatchesElementReads() {
        SplittableRandom r = new SplittableRandom(5);
        int vocab = 23, dim = 13;
        try (Arena arena = Arena.ofConfined()) {
            Tensor bf16 = Tensor.allocate(arena, DType.BF16, Shape.of(vocab, dim));
            Tensor f32 = Tensor.zeros(vocab, dim);
            for (int v = 0; v < vocab; v++) {
                for (int i = 0; i < dim; i++) {
                    float x = (float) r.nextGaussian();
                    bf16.setFloat(x, v, i);
                    f32.setFloat(x, v, i);
                }
            }
            int[] tokens = r.ints(9, 0, vocab).toArray();
            for (Tensor table : List.of(bf16, f32)) {
                for (float scale : new float[] {1f, 2.5f}) {
                    Embedding e = new Embedding(table, scale);
                    int off = 3, len = 5;
                    Tensor out = e.lookup(tokens, off, len, Tensor.zeros(len, dim));
                    for (int t = 0; t < len; t++) {
                        for (int i = 0; i < dim; i++) {
                            // one product of the stored value by the scale on both sides: exact
                            assertEquals(table.getFloat(tokens[off + t], i) * scale, out.getFloat(t, i),
                                    table.dtype() + " scale " + scale + " row " + t + " col " + i);
                        }
                    }
                }
            }
            Embedding e = new Embedding(f32);
            assertThrows(IllegalArgumentException.class, () -> e.lookup(tokens, 7, 3, Tensor.zeros(3, dim)));
            int[] bad = {1, vocab};
            var ex = assertThrows(IllegalArgumentException.class, () -> e.lookup(bad, 1, 1, Tensor.zeros(1, dim)));
            assertTrue(ex.getMessage().contains("token " + vocab + " at index 1"), ex.getMessage());
        }
    }

    /** forward(tokens, off, len) equals forward on a copy of the range; 1e-5 as other repeated-run checks here. */
    @Test
    void stackRunsATokenRangeWithoutACopy() {
        RandomLayers r = new RandomLayers(0x5A7L);
        int d = 16, vocab = 40;
        AttentionConfig ac = AttentionConfig.builder(d, 4, 64).kvHeads(2).rope(RopeConfig.of(1e4)).build();
        DecoderStack stack = new DecoderStack(new Embedding(r.gaussian(1, 0, vocab, d)), null, null,
                List.of(r.block(BlockConfig.of(ac, NormPlacement.PRE), r.swiGlu(d, 24))), r.rms(d));
        int[] tokens = new int[20];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(vocab);
        }
        StackSession a = stack.newSession(64, 8, false), b = stack.newSession(64, 8, false);
        for (int off = 0; off < tokens.length; off += 7) {
            int len = Math.min(7, tokens.length - off);
            float[] ranged = stack.forward(tokens, off, len, a).toFloatArray();
            float[] copied = stack.forward(Arrays.copyOfRange(tokens, off, off + len), b).toFloatArray();
            assertTrue(Runs.maxAbs(ranged, copied) <= 1e-5, "chunk at " + off);
        }
        assertEquals(tokens.length, a.position());
    }
}
