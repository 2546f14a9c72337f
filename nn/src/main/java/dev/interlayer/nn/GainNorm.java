package dev.interlayer.nn;

import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

// The norms with a learned gain over the last axis (LayerNorm, RmsNorm): weight [dim] gives the width, and their
// compact constructors make the same checks (checkGain).
interface GainNorm extends Norm {
    // the gain, [dim]
    Tensor weight();

    @Override
    default int dim() {
        return weight().dim(0);
    }

    // The checks every norm with a gain makes: weight [dim], eps >= 0 (NaN refused); messages name the norm.
    static void checkGain(String norm, Tensor weight, float eps) {
        if (weight == null || weight.rank() != 1) {
            throw new ShapeMismatchException(norm + ": weight must be [dim], got "
                    + (weight == null ? "null" : weight.shape()));
        }
        if (!(eps >= 0)) {
            throw new IllegalArgumentException(norm + ": eps must be >= 0, got " + eps);
        }
    }
}
