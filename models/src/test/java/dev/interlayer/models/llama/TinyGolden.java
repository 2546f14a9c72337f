package dev.interlayer.models.llama;

import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.Fixture;

/**
 * Helpers for the Llama tests around the fixtures of reference/arch/arch_reference.py --extras, which
 * {@link Fixture} reads: token-by-token logits (edited copies of the HF folders: {@link Fixture#editedHf}).
 */
final class TinyGolden {
    private TinyGolden() {
    }

    /** Logits of every position fed one token at a time through {@code s} (rows concatenated). */
    static float[] decodeAll(DecoderLM.Session s, int[] tokens, int vocab) {
        float[] out = new float[tokens.length * vocab];
        for (int t = 0; t < tokens.length; t++) {
            System.arraycopy(s.append(tokens, t, 1), 0, out, t * vocab, vocab);
        }
        return out;
    }
}
