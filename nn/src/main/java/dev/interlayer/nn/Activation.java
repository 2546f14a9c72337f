package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;

/**
 * Feed-forward activations act in m = W₂·act(W₁·h) (gated: W₂·(act(W_g·h) ⊙ W_u·h)), mapped to the tensor module's
 * unary kernels. ReLU and leaky ReLU are also what norm-free GPT-2 models train with (Jha and Reagen 2024,
 * "ReLU's Revival: On the Entropic Overload in Normalization-Free Large Language Models").
 */
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

    /** out = act(x) element-wise. Shapes: x, out equal. Modifies {@code out} (may be {@code x}). */
    public Tensor apply(Tensor x, Tensor out) {
        return Ops.unary(unary, x, out);
    }
}
