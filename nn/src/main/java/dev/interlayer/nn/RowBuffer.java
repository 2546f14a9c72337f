package dev.interlayer.nn;

import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;

/**
 * A preallocated F32 scratch matrix of {@code maxRows × cols} whose leading-row views are created
 * once per row count and then reused, so a decode loop that asks for the same row count every token
 * does not allocate.
 *
 * <p>Shapes: {@link #rows(int) rows(n)} is {@code [n, cols]}, a contiguous view of the first n rows.
 * Mutable session state: one thread owns it.
 */
public final class RowBuffer {
    private final float[] data;   // [maxRows * cols]
    private final int maxRows;
    private final int cols;
    private final Tensor full;    // [maxRows, cols]
    private final Tensor[] views; // views[n] = first n rows, created lazily

    /** A zeroed buffer of {@code maxRows × cols} floats. */
    public RowBuffer(int maxRows, int cols) {
        if (maxRows < 1 || cols < 1) {
            throw new IllegalArgumentException("RowBuffer needs maxRows >= 1 and cols >= 1, got " + maxRows + " x "
                    + cols);
        }
        this.data = new float[Math.multiplyExact(maxRows, cols)];
        this.maxRows = maxRows;
        this.cols = cols;
        this.full = Tensor.wrap(data, Shape.of(maxRows, cols));
        this.views = new Tensor[maxRows + 1];
    }

    /** The first {@code n} rows as a [n, cols] view (cached). @throws IllegalArgumentException if n is out of range */
    public Tensor rows(int n) {
        if (n < 1 || n > maxRows) {
            throw new IllegalArgumentException("asked for " + n + " rows of a scratch buffer with " + maxRows
                    + " (the session's maxTokens per call)");
        }
        Tensor v = views[n];
        if (v == null) {
            v = n == maxRows ? full : full.slice(0, 0, n);
            views[n] = v;
        }
        return v;
    }

    /** The backing array, row-major [maxRows, cols]. */
    public float[] data() {
        return data;
    }

    /** Row capacity. */
    public int maxRows() {
        return maxRows;
    }

    /** Row width. */
    public int cols() {
        return cols;
    }
}
