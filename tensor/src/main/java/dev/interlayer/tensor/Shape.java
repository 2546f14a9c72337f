package dev.interlayer.tensor;

import java.util.Arrays;

/**
 * An immutable tensor shape: a list of non-negative dimensions with an overflow-checked size.
 *
 * <p>Axes may be given negatively, counting from the end ({@code dim(-1)} is the last dimension).
 */
public final class Shape {
    private static final Shape SCALAR = new Shape(new int[0]);

    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) {
                throw new IllegalArgumentException("dimension " + i + " of " + Arrays.toString(dims) + " is negative");
            }
            try {
                n = Math.multiplyExact(n, dims[i]);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has more than 2^63-1 elements");
            }
        }
        this.dims = dims;
        this.size = n;
    }

    /** A shape with the given dimensions (copied). @throws IllegalArgumentException on a negative or overflowing dim */
    public static Shape of(int... dims) {
        return dims.length == 0 ? SCALAR : new Shape(dims.clone());
    }

    /** A shape from long dimensions, each of which must fit in an int. */
    public static Shape ofLong(long... dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("dimension " + i + " of " + Arrays.toString(dims)
                        + " is outside [0, " + Integer.MAX_VALUE + "]");
            }
            d[i] = (int) dims[i];
        }
        return new Shape(d);
    }

    /** The rank-0 shape (one element). */
    public static Shape scalar() {
        return SCALAR;
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Product of the dimensions (1 for a scalar). */
    public long size() {
        return size;
    }

    /** Dimension at {@code axis}; negative axes count from the end. */
    public int dim(int axis) {
        return dims[axis(axis)];
    }

    /** A copy of the dimensions. */
    public int[] dims() {
        return dims.clone();
    }

    /**
     * Normalizes a possibly negative axis to [0, rank).
     *
     * @throws IndexOutOfBoundsException naming the axis and the rank
     */
    public int axis(int axis) {
        int a = axis < 0 ? axis + dims.length : axis;
        if (a < 0 || a >= dims.length) {
            throw new IndexOutOfBoundsException("axis " + axis + " out of range for rank " + dims.length + " shape " + this);
        }
        return a;
    }

    /** This shape with dimension {@code axis} replaced by {@code value}. */
    public Shape with(int axis, int value) {
        int[] d = dims.clone();
        d[axis(axis)] = value;
        return new Shape(d);
    }

    /** Row-major (C order) strides in elements. */
    public long[] contiguousStrides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(dims[i], 1);
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** Like {@code [2, 3, 4]}. */
    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
