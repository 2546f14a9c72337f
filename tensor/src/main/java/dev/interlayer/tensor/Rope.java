package dev.interlayer.tensor;

/**
 * Rotary position embedding for one head width.
 *
 * <p>For pair i (0 ≤ i &lt; rotaryDim/2) at position p the angle is p·invFreq[i]; the pair is
 * (x[i], x[i + rotaryDim/2]) for {@link Pairing#HALF_SPLIT} (GPT-NeoX, HF Llama) or
 * (x[2i], x[2i+1]) for {@link Pairing#INTERLEAVED} (GPT-J, original Llama/Meta). Dimensions from
 * rotaryDim to headDim pass through unchanged (partial rotary). cos/sin are multiplied by
 * {@code attentionScaling} (1 except for YaRN-style scalings).
 *
 * @param headDim          width of one head
 * @param rotaryDim        rotated width (even, ≤ headDim)
 * @param pairing          which elements form a rotation pair
 * @param invFreq          [rotaryDim/2] inverse frequencies
 * @param attentionScaling factor on cos and sin
 */
public record Rope(int headDim, int rotaryDim, Pairing pairing, float[] invFreq, float attentionScaling) {
    /** Which elements of a head rotate together. */
    public enum Pairing {
        /** (x[i], x[i + rotaryDim/2]): GPT-NeoX, HF Llama. */
        HALF_SPLIT,
        /** (x[2i], x[2i+1]): GPT-J, Meta's original Llama. */
        INTERLEAVED
    }

    /**
     * Validates the geometry and copies {@code invFreq}.
     *
     * @throws IllegalArgumentException if rotaryDim is odd, not positive or above headDim, or invFreq is not
     *                                  rotaryDim/2 long
     */
    public Rope {
        if (rotaryDim <= 0 || rotaryDim % 2 != 0 || rotaryDim > headDim) {
            throw new IllegalArgumentException("rotaryDim must be even and in (0, headDim=" + headDim + "], got "
                    + rotaryDim);
        }
        if (invFreq.length != rotaryDim / 2) {
            throw new IllegalArgumentException("invFreq needs rotaryDim/2 = " + rotaryDim / 2 + " entries, got "
                    + invFreq.length);
        }
        invFreq = invFreq.clone();
    }

    /** Standard RoPE: invFreq[i] = theta^(-2i/rotaryDim), computed in double then rounded (as HF does in float). */
    public static Rope standard(int headDim, int rotaryDim, double theta, Pairing pairing) {
        float[] f = new float[rotaryDim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (1.0 / Math.pow(theta, (2.0 * i) / rotaryDim));
        }
        return new Rope(headDim, rotaryDim, pairing, f, 1f);
    }

    /** A copy of the [rotaryDim/2] inverse frequencies. */
    @Override
    public float[] invFreq() {
        return invFreq.clone();
    }

    /** invFreq[i] without copying. */
    public float invFreq(int i) {
        return invFreq[i];
    }
}
