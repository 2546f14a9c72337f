package dev.interlayer.nn;

/**
 * How RoPE frequencies ω_i = θ^(−2i/r) are rescaled to ω'_i for long context (HF {@code rope_scaling}).
 * Implementations: {@link None}, {@link Linear}, {@link DynamicNtk}, {@link Llama3}, {@link Divisors}.
 */
public sealed interface RopeScaling {
    /** No scaling: ω' = ω. */
    record None() implements RopeScaling {
    }

    /** Position interpolation: ω' = ω / factor (Gemma 3 global layers: factor 8). */
    record Linear(double factor) implements RopeScaling {
        /**
         * Checks the factor.
         *
         * @throws IllegalArgumentException if factor is not positive
         */
        public Linear {
            if (!(factor > 0)) {
                throw new IllegalArgumentException("rope_scaling.factor must be > 0, got " + factor);
            }
        }
    }

    /**
     * Dynamic NTK: when the sequence length s (largest position in the call + 1) exceeds
     * {@code originalMax}, θ' = θ·((factor·s/originalMax) − (factor − 1))^(r/(r−2)). As in HF, keys
     * already in the cache keep the rotation they were given, so decode past originalMax is not
     * identical to a full recompute.
     */
    record DynamicNtk(double factor, int originalMax) implements RopeScaling {
        /**
         * Checks the factor and original context length.
         *
         * @throws IllegalArgumentException if factor is not positive or originalMax is below 1
         */
        public DynamicNtk {
            if (!(factor > 0) || originalMax < 1) {
                throw new IllegalArgumentException("dynamic rope_scaling needs factor > 0 and "
                        + "original_max_position_embeddings >= 1, got " + factor + ", " + originalMax);
            }
        }
    }

    /**
     * Llama 3.1 scaling: high frequencies (wavelength &lt; L0/hi) unchanged, low frequencies
     * (wavelength &gt; L0/lo) divided by factor, smooth interpolation in between.
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMax) implements RopeScaling {
        /**
         * Checks the factors and original context length.
         *
         * @throws IllegalArgumentException unless factor &gt; 0, 0 &lt; lowFreqFactor &lt; highFreqFactor and originalMax &ge; 1
         */
        public Llama3 {
            if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMax < 1) {
                throw new IllegalArgumentException("llama3 rope_scaling needs factor > 0, 0 < low_freq_factor < "
                        + "high_freq_factor and original_max_position_embeddings >= 1, got factor " + factor
                        + ", low " + lowFreqFactor + ", high " + highFreqFactor + ", original " + originalMax);
            }
        }
    }

    /**
     * Explicit per-pair divisors: ω'_i = ω_i / (divisors[i] · factor). llama.cpp stores Llama 3.1 scaling this
     * way (the GGUF {@code rope_freqs} tensor, one divisor per rotated pair) instead of its four parameters;
     * {@code factor} carries a linear scaling on top (1 = none). ω_i is rounded to float before the division,
     * as llama.cpp's converter and kernels do. The array is copied.
     *
     * @param divisors [rotaryDim/2] positive divisors
     * @param factor   linear position-interpolation factor (1 = none)
     */
    record Divisors(float[] divisors, double factor) implements RopeScaling {
        /**
         * Checks that every divisor and the factor are finite and positive; copies the array.
         *
         * @throws IllegalArgumentException naming the first bad divisor, or for a bad factor
         */
        public Divisors {
            if (divisors == null || divisors.length == 0) {
                throw new IllegalArgumentException("rope frequency divisors must be a non-empty array");
            }
            divisors = divisors.clone();
            for (int i = 0; i < divisors.length; i++) {
                if (!(divisors[i] > 0) || Float.isInfinite(divisors[i])) {
                    throw new IllegalArgumentException("rope frequency divisor " + i + " must be finite and > 0, got "
                            + divisors[i]);
                }
            }
            if (!(factor > 0) || Double.isInfinite(factor)) {
                throw new IllegalArgumentException("rope scaling factor must be finite and > 0, got " + factor);
            }
        }

        /** divisors[i] (no copy). */
        public float divisor(int i) {
            return divisors[i];
        }

        /** A copy of the divisors. */
        @Override
        public float[] divisors() {
            return divisors.clone();
        }
    }
}
