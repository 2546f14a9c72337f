package dev.interlayer.tensor.kernel;

import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.ShapeMismatchException;

/** NumPy broadcasting of two shapes. */
public final class Broadcast {
    private Broadcast() {
    }

    /** The broadcast shape of a and b. @throws ShapeMismatchException naming op and both shapes */
    public static Shape shape(String op, Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        int[] d = new int[r];
        for (int i = 0; i < r; i++) {
            int ia = i - (r - a.rank()), ib = i - (r - b.rank());
            int da = ia < 0 ? 1 : a.dim(ia), db = ib < 0 ? 1 : b.dim(ib);
            if (da != db && da != 1 && db != 1) {
                throw ShapeMismatchException.of(op, "shapes must broadcast", a, b);
            }
            d[i] = da == 1 ? db : da;
        }
        return Shape.of(d);
    }
}
