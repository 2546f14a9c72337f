package dev.interlayer.nn;

import dev.interlayer.tensor.Rope;

/**
 * Rotary embedding settings (Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding"):
 * base θ, pair layout, rotated fraction and frequency scaling. A pair (a, b) at position p is rotated by
 * φ = p·ω'_i: a' = a·cos φ − b·sin φ, b' = b·cos φ + a·sin φ, so q·k depends only on the relative offset.
 * Builds the tensor module's {@link Rope} tables.
 *
 * <p>ω_i = θ^(−2i/r) for i &lt; r/2, r = headDim·partialFactor (even); angle = position·ω'_i.
 *
 * @param theta         rope_theta
 * @param pairing       HALF_SPLIT (HF rotate_half) or INTERLEAVED (GPT-J, llama.cpp NORM)
 * @param partialFactor fraction of the head that rotates (partial_rotary_factor), in (0, 1]
 * @param scaling       frequency scaling
 */
public record RopeConfig(double theta, Rope.Pairing pairing, double partialFactor, RopeScaling scaling) {
    /**
     * Validates the RoPE options.
     *
     * @throws IllegalArgumentException if theta is not above 1, partialFactor is outside (0, 1], or pairing or scaling is
     *                                  null
     */
    public RopeConfig {
        if (!(theta > 1)) {
            throw new IllegalArgumentException("rope_theta must be > 1, got " + theta);
        }
        if (!(partialFactor > 0 && partialFactor <= 1)) {
            throw new IllegalArgumentException("partial_rotary_factor must be in (0, 1], got " + partialFactor);
        }
        if (pairing == null || scaling == null) {
            throw new IllegalArgumentException("RopeConfig: pairing and scaling must not be null");
        }
    }

    /** Unscaled, full-width RoPE with half-split pairing (HF layout). */
    public static RopeConfig of(double theta) {
        return new RopeConfig(theta, Rope.Pairing.HALF_SPLIT, 1.0, new RopeScaling.None());
    }

    /** Rotated width r = (int)(headDim · partialFactor). */
    public int rotaryDim(int headDim) {
        return (int) (headDim * partialFactor);
    }

    /** True if the frequencies depend on the sequence length (dynamic NTK). */
    public boolean dependsOnLength() {
        return scaling instanceof RopeScaling.DynamicNtk;
    }

    /**
     * The scaled inverse frequencies ω'_i for a call whose largest position is seqLen − 1.
     * Computed in double and rounded once.
     */
    public float[] invFreq(int headDim, int seqLen) {
        int r = rotaryDim(headDim);
        if (r < 2 || r % 2 != 0) {
            throw new IllegalArgumentException("rotary width headDim·partial_rotary_factor = " + headDim + "·"
                    + partialFactor + " = " + r + " must be even and >= 2");
        }
        double base = theta;
        if (scaling instanceof RopeScaling.DynamicNtk(double f, int orig) && seqLen > orig) {
            base = theta * Math.pow(f * seqLen / orig - (f - 1), (double) r / (r - 2));
        }
        float[] out = new float[r / 2];
        if (scaling instanceof RopeScaling.Divisors div && div.divisors().length != out.length) {
            throw new IllegalArgumentException("rope frequency divisors: " + div.divisors().length
                    + " given, rotary width " + r + " needs " + out.length);
        }
        for (int i = 0; i < out.length; i++) {
            double w = 1.0 / Math.pow(base, (2.0 * i) / r);
            out[i] = (float) switch (scaling) {
                case RopeScaling.Linear(double f) -> w / f;
                case RopeScaling.Llama3(double f, double lo, double hi, int l0) -> llama3(w, f, lo, hi, l0);
                case RopeScaling.Divisors div -> (double) (float) w / div.divisor(i) / div.factor();
                default -> w;
            };
        }
        return out;
    }

    private static double llama3(double w, double f, double lo, double hi, int l0) {
        double wavelen = 2 * Math.PI / w;
        if (wavelen < l0 / hi) {
            return w;
        }
        if (wavelen > l0 / lo) {
            return w / f;
        }
        double t = (l0 / wavelen - lo) / (hi - lo);
        return (1 - t) * w / f + t * w;
    }

    /** The tensor-module table for one head width at the given sequence length. */
    public Rope table(int headDim, int seqLen) {
        return new Rope(headDim, rotaryDim(headDim), pairing, invFreq(headDim, seqLen), 1f);
    }
}
