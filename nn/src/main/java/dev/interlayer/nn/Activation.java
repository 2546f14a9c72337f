package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;

/** Feed-forward activations (ARCHITECTURES.md §0.2, §1.6.b) mapped to the tensor module's unary kernels. */
public enum Activation {
    /** x·Φ(x), exact erf (BERT, GPT-NeoX "gelu"). */
    GELU_ERF(Unary.GELU_ERF),
    /** tanh approximation of GELU (GPT-2 "gelu_new", Gemma "gelu_pytorch_tanh"). */
    GELU_TANH(Unary.GELU_TANH),
    /** max(x, 0). */
    RELU(Unary.RELU),
    /** max(x, 0)² (Primer). */
    RELU2(Unary.RELU2),
    /** x·sigmoid(x) (SwiGLU gate). */
    SILU(Unary.SILU);

    private final Unary unary;

    Activation(Unary unary) {
        this.unary = unary;
    }

    /** The element-wise kernel implementing this activation. */
    public Unary unary() {
        return unary;
    }

    /**
     * out = act(x) element-wise. Shapes: x, out equal. Modifies {@code out} (may be {@code x}).
     *
     * <p>GELU_ERF is computed here rather than by {@code Ops.unary(Unary.GELU_ERF)} because the tensor
     * module's {@code Erf.erf} is wrong for 0.5 ≤ |x| &lt; 4 at the time of writing (erf(0.7) gives
     * 0.7745 instead of 0.6778); switch back once it is fixed.
     */
    public Tensor apply(Tensor x, Tensor out) {
        if (this != GELU_ERF) {
            return Ops.unary(unary, x, out);
        }
        if (!x.shape().equals(out.shape())) {
            throw ShapeMismatchException.of("Activation " + this, "x and out must match", x.shape(), out.shape());
        }
        float[] xa = x.heapFloats(), oa = out.heapFloats();
        if (xa != null && oa != null && x.isContiguous() && out.isContiguous()) {
            int xo = (int) x.offset(), oo = (int) out.offset(), n = (int) x.size();
            for (int i = 0; i < n; i++) {
                oa[oo + i] = geluErf(xa[xo + i]);
            }
            return out;
        }
        Tensor xc = x.contiguous();
        float[] v = xc.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = geluErf(v[i]);
        }
        out.copyFrom(Tensor.wrap(v, x.shape()));
        return out;
    }

    // x·Φ(x) = 0.5·x·erfc(−x/√2); erfc by the Numerical Recipes Chebyshev fit (relative error < 1.2e-7).
    static float geluErf(float x) {
        double z = -x / Math.sqrt(2.0);
        double az = Math.abs(z);
        double t = 1.0 / (1.0 + 0.5 * az);
        double r = t * Math.exp(-az * az - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223
                + t * 0.17087277)))))))));
        double erfc = z >= 0 ? r : 2.0 - r;
        return (float) (0.5 * x * erfc);
    }
}
