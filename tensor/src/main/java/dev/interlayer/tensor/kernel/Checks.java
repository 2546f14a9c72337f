package dev.interlayer.tensor.kernel;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.UnsupportedDTypeException;

/** Argument checks shared by kernels; each message names the op and both shapes. */
public final class Checks {
    private Checks() {
    }

    /** @throws ShapeMismatchException unless {@code a.equals(b)} */
    public static void sameShape(String op, Shape a, Shape b) {
        if (!a.equals(b)) {
            throw ShapeMismatchException.of(op, "shapes must be equal", a, b);
        }
    }

    /** @throws UnsupportedDTypeException unless t is F32 */
    public static void requireF32(String op, Tensor t) {
        if (t.dtype() != DType.F32) {
            throw new UnsupportedDTypeException(op, t.dtype(), DType.F32);
        }
    }
}
