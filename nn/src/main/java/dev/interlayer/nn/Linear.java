package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.UnsupportedDTypeException;
import dev.interlayer.tensor.quant.BlockFormats;
import dev.interlayer.tensor.DType;

/**
 * A linear layer y = x·Wᵀ + b with the weight stored [out, in] (PyTorch/HF convention).
 *
 * <p>Shapes: weight [out, in] in F32, F16 or BF16; bias [out] or null.
 *
 * @param weight [out, in]
 * @param bias   [out] or null
 */
public record Linear(Tensor weight, Tensor bias) {
    /**
     * Checks weight [out, in] (floating point) and bias [out].
     *
     * @throws ShapeMismatchException    if weight is not rank 2 or bias is not [out]
     * @throws UnsupportedDTypeException if weight is neither F32/F16/BF16 nor a GGML block format that
     *                                   {@link BlockFormats} reads in place (Q8_0 … Q6_K, IQ4_NL, IQ4_XS)
     * @throws IllegalArgumentException  if weight is null
     */
    public Linear {
        if (weight == null) {
            throw new IllegalArgumentException("Linear: weight is null");
        }
        if (weight.rank() != 2) {
            throw new ShapeMismatchException("Linear: weight must be [out, in], got " + weight.shape());
        }
        if (!weight.dtype().isFloatingPoint() && !BlockFormats.supports(weight.dtype())) {
            throw new UnsupportedDTypeException("Linear weight", weight.dtype(), supportedWeightTypes());
        }
        if (bias != null && !bias.shape().equals(Shape.of(weight.dim(0)))) {
            throw ShapeMismatchException.of("Linear", "bias must be [out] for weight [out, in]", bias.shape(),
                    weight.shape());
        }
    }

    // F32/F16/BF16 and every block-quantized type the in-place kernels read, for error messages.
    private static DType[] supportedWeightTypes() {
        return java.util.Arrays.stream(DType.values())
                .filter(t -> t.isFloatingPoint() || BlockFormats.supports(t)).toArray(DType[]::new);
    }

    /** A linear layer without bias. */
    public Linear(Tensor weight) {
        this(weight, null);
    }

    /** Input width (in). */
    public int in() {
        return weight.dim(1);
    }

    /** Output width (out). */
    public int out() {
        return weight.dim(0);
    }

    /**
     * out = x·Wᵀ + b. Shapes: x [..., in]; out [..., out]. Modifies {@code out}; does not modify {@code x}.
     *
     * @throws ShapeMismatchException naming both shapes
     */
    public Tensor apply(Tensor x, Tensor out) {
        Ops.matmulT(x, weight, out);
        return addBias(out);
    }

    /** y += bias (broadcast over rows) when there is a bias; for callers that ran the product themselves. Returns y. */
    public Tensor addBias(Tensor y) {
        if (bias != null) {
            Ops.add(y, bias, y);
        }
        return y;
    }

    /** Checks the weight is [out, in]; {@code what} names the field in the message. */
    public Linear requireShape(String what, int outDim, int inDim) {
        if (weight.dim(0) != outDim || weight.dim(1) != inDim) {
            throw new ShapeMismatchException(what + ": weight must be [" + outDim + ", " + inDim + "], got "
                    + weight.shape());
        }
        return this;
    }
}
