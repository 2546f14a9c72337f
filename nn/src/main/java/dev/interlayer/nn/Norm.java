package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;

/**
 * A per-token normalizer over the last axis, reductions in float32 or wider:
 * <pre>
 * LayerNorm (Ba et al. 2016)      y = (x − μ)/sqrt(σ² + ε) ⊙ γ + β      μ = mean(x), σ² = mean((x − μ)²)
 * RMSNorm (Zhang and Sennrich 2019) y = γ ⊙ x/sqrt(mean(x²) + ε)
 * RMSNorm, Gemma (1+w) gain        y = (1 + w) ⊙ x/sqrt(mean(x²) + ε)   (HF Gemma stores w = γ − 1)
 * </pre>
 *
 * <p>Shapes: x, out [..., dim].
 */
public interface Norm {
    /** Width of the normalized axis. */
    int dim();

    /** out = Norm(x) over the last axis. Modifies {@code out} (may be {@code x}). */
    Tensor apply(Tensor x, Tensor out);
}
