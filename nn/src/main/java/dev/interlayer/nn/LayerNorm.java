package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * LayerNorm: y = (x − mean(x)) / sqrt(var(x) + eps) ⊙ γ + β with the biased (population) variance.
 *
 * <p>Shapes: weight [dim]; bias [dim] or null; x, out [..., dim].
 *
 * @param weight γ [dim]
 * @param bias   β [dim] or null
 * @param eps    added to the variance inside the square root
 */
public record LayerNorm(Tensor weight, Tensor bias, float eps) implements GainNorm {
    /**
     * Checks shapes and eps.
     *
     * @throws ShapeMismatchException  if weight is not [dim] or bias is not null and not [dim]
     * @throws IllegalArgumentException if eps is negative or NaN
     */
    public LayerNorm {
        GainNorm.checkGain("LayerNorm", weight, eps);
        if (bias != null && !bias.shape().equals(Shape.of(weight.dim(0)))) {
            throw ShapeMismatchException.of("LayerNorm", "bias must match weight", bias.shape(), weight.shape());
        }
    }

    @Override
    public Tensor apply(Tensor x, Tensor out) {
        return Ops.layerNorm(x, weight, bias, eps, out);
    }
}
