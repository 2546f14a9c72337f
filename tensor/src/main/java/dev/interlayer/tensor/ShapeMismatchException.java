package dev.interlayer.tensor;

/** Thrown when an op receives tensors whose shapes do not fit; the message names the op and every shape. */
public final class ShapeMismatchException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with a ready-made message.
     *
     * @param message op name, the rule that failed and the shapes involved
     */
    public ShapeMismatchException(String message) {
        super(message);
    }

    /** Builds "{@code op}: {@code rule} (got A and B)". */
    public static ShapeMismatchException of(String op, String rule, Shape a, Shape b) {
        return new ShapeMismatchException(op + ": " + rule + " (got " + a + " and " + b + ")");
    }
}
