package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * RMSNorm: y = x / sqrt(mean(x²) + eps) ⊙ g, with g = w (Llama) or g = 1 + w (Gemma's stored
 * offset gain, {@code onePlusWeight}).
 *
 * <p>Shapes: weight [dim] (F32/F16/BF16); x, out [..., dim].
 *
 * @param weight        [dim]
 * @param eps           added to mean(x²) inside the square root
 * @param onePlusWeight use (1 + w) as the gain
 */
public record RmsNorm(Tensor weight, float eps, boolean onePlusWeight) implements GainNorm {
    /**
     * Checks weight [dim] and eps.
     *
     * @throws ShapeMismatchException  if weight is null or not [dim]
     * @throws IllegalArgumentException if eps is negative or NaN
     */
    public RmsNorm {
        GainNorm.checkGain("RmsNorm", weight, eps);
    }

    /** Plain RMSNorm with gain w. */
    public RmsNorm(Tensor weight, float eps) {
        this(weight, eps, false);
    }

    @Override
    public Tensor apply(Tensor x, Tensor out) {
        return Ops.rmsNorm(x, weight, eps, onePlusWeight, out);
    }
}
