package dev.interlayer.tensor;

/** Element-wise binary operations. */
public enum Binary {
    /** a + b. */
    ADD,
    /** a - b. */
    SUB,
    /** a · b. */
    MUL,
    /** a / b (IEEE: x/0 is ±∞ or NaN). */
    DIV,
    /** max(a, b); NaN if either is NaN (as torch.maximum). */
    MAX;

    /** Scalar definition (the oracle). */
    public float apply(float a, float b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> (Float.isNaN(a) || Float.isNaN(b)) ? Float.NaN : Math.max(a, b);
        };
    }
}
