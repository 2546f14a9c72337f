package dev.interlayer.tensor;

/** Element-wise activations and functions. Scalar definitions here are the oracle for SIMD versions. */
public enum Unary {
    /** eˣ. */
    EXP,
    /** ln x (NaN below 0, -∞ at 0). */
    LOG,
    /** tanh x. */
    TANH,
    /** σ(x) = 1 / (1 + e⁻ˣ). */
    SIGMOID,
    /** x·σ(x) (SiLU, swish). */
    SILU,
    /** max(x, 0); NaN stays NaN. */
    RELU,
    /** relu(x)² (Primer). */
    RELU2,
    /** x·Φ(x) with the exact erf. */
    GELU_ERF,
    /** 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))). */
    GELU_TANH,
    /** log(1 + eˣ), linear above 20 as in PyTorch. */
    SOFTPLUS,
    /** -x. */
    NEG,
    /** x². */
    SQUARE,
    /** √x. */
    SQRT,
    /** 1 / √x. */
    RSQRT,
    /** |x|. */
    ABS;

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    /** Scalar definition, computed in double and rounded once. */
    public float apply(float x) {
        double v = x;
        return (float) switch (this) {
            case EXP -> Math.exp(v);
            case LOG -> Math.log(v);
            case TANH -> Math.tanh(v);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-v));
            case SILU -> v / (1.0 + Math.exp(-v));
            case RELU -> v > 0 ? v : (Double.isNaN(v) ? v : 0.0);
            case RELU2 -> v > 0 ? v * v : (Double.isNaN(v) ? v : 0.0);
            case GELU_ERF -> 0.5 * v * Erf.erfc(-v / Math.sqrt(2.0)); // erfc: no cancellation in the left tail
            case GELU_TANH -> v / (1.0 + Math.exp(-2.0 * SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))); // = 0.5v(1+tanh u)
            case SOFTPLUS -> v > 20.0 ? v : Math.log1p(Math.exp(v));
            case NEG -> -v;
            case SQUARE -> v * v;
            case SQRT -> Math.sqrt(v);
            case RSQRT -> 1.0 / Math.sqrt(v);
            case ABS -> Math.abs(v);
        };
    }
}
