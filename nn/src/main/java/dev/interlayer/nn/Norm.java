package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;

/**
 * A per-token normalizer over the last axis (LayerNorm, RMSNorm, RMSNorm with (1+w) gain); see
 * ARCHITECTURES.md §1.1. Reductions are done in float32 or wider.
 *
 * <p>Shapes: x, out [..., dim].
 */
public interface Norm {
    /** Width of the normalized axis. */
    int dim();

    /** out = Norm(x) over the last axis. Modifies {@code out} (may be {@code x}). */
    Tensor apply(Tensor x, Tensor out);
}
