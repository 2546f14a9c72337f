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

    /**
     * Requires equal shapes.
     *
     * @throws ShapeMismatchException unless {@code a.equals(b)}
     */
    public static void sameShape(String op, Shape a, Shape b) {
        if (!a.equals(b)) {
            throw ShapeMismatchException.of(op, "shapes must be equal", a, b);
        }
    }

    /**
     * Requires an F32 tensor.
     *
     * @throws UnsupportedDTypeException unless t is F32
     */
    public static void requireF32(String op, Tensor t) {
        if (t.dtype() != DType.F32) {
            throw new UnsupportedDTypeException(op, t.dtype(), DType.F32);
        }
    }

    /**
     * Requires a floating-point tensor.
     *
     * @throws UnsupportedDTypeException unless t is F32, F16 or BF16
     */
    public static void requireFloat(String op, Tensor t) {
        if (!t.dtype().isFloatingPoint()) {
            throw new UnsupportedDTypeException(op, t.dtype(), DType.F32, DType.F16, DType.BF16);
        }
    }

    /**
     * Validates the arguments of a row norm (rmsNorm, layerNorm): out shaped like x, and weight and bias (each
     * optional, null for none) of shape [d] with d = x.dim(-1). Allocates nothing when they are valid, since
     * decode calls it per token.
     *
     * @return d, the row width
     * @throws ShapeMismatchException naming {@code op} and the shapes; a rank-0 x has no row and fails too
     */
    public static int rowNorm(String op, Tensor x, Tensor weight, Tensor bias, Tensor out) {
        sameShape(op, x.shape(), out.shape());
        int d = x.dim(-1);
        if (weight != null && (weight.rank() != 1 || weight.dim(0) != d)) {
            sameShape(op + " weight", Shape.of(d), weight.shape());
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != d)) {
            sameShape(op + " bias", Shape.of(d), bias.shape());
        }
        return d;
    }

    /**
     * Validates rope arguments: out shaped like x [T, ...], one position per token, and a per-token width that
     * is a whole number of heads of {@code headDim}.
     *
     * @return the per-token width x.size() / T (0 when T = 0)
     * @throws ShapeMismatchException naming the shapes, the positions count or the width
     */
    public static long rope(Tensor x, int headDim, int[] positions, Tensor out) {
        sameShape("rope", x.shape(), out.shape());
        int tokens = x.dim(0);
        if (positions.length != tokens) {
            throw new ShapeMismatchException("rope: " + positions.length + " positions for " + tokens
                    + " tokens in " + x.shape());
        }
        long perToken = x.size() / Math.max(tokens, 1);
        if (tokens > 0 && perToken % headDim != 0) {
            throw new ShapeMismatchException("rope: per-token width " + perToken + " of " + x.shape()
                    + " is not a multiple of headDim " + headDim);
        }
        return perToken;
    }

    /** Validates embedding arguments and every id before anything is written. */
    public static void embedding(Tensor table, int[] ids, Tensor out) {
        if (table.rank() != 2 || out.rank() != 2 || out.dim(0) != ids.length || out.dim(1) != table.dim(1)) {
            throw new ShapeMismatchException("embedding: need table [V, d] and out [" + ids.length
                    + " ids, d] (got " + table.shape() + " and " + out.shape() + ")");
        }
        requireFloat("embedding table", table);
        requireFloat("embedding out", out);
        int vocab = table.dim(0);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IndexOutOfBoundsException("embedding: id " + ids[i] + " at position " + i
                        + " is out of range for vocab size " + vocab);
            }
        }
    }

    /** Validates concat arguments; returns the normalized axis. */
    public static int concat(Tensor[] inputs, int axis, Tensor out) {
        if (inputs.length == 0) {
            throw new IllegalArgumentException("concat: no inputs");
        }
        int a = out.shape().axis(axis);
        long total = 0;
        for (Tensor in : inputs) {
            if (in.rank() != out.rank() || !in.shape().with(a, 0).equals(out.shape().with(a, 0))) {
                throw ShapeMismatchException.of("concat along axis " + axis,
                        "inputs must equal out except along the axis", in.shape(), out.shape());
            }
            requireFloat("concat", in);
            total += in.dim(a);
        }
        if (total != out.dim(a)) {
            StringBuilder sb = new StringBuilder();
            for (Tensor in : inputs) {
                sb.append(sb.isEmpty() ? "" : ", ").append(in.shape());
            }
            throw new ShapeMismatchException("concat along axis " + axis + ": input sizes add up to " + total
                    + " but out has " + out.dim(a) + " (got inputs " + sb + " and out " + out.shape() + ")");
        }
        requireFloat("concat out", out);
        return a;
    }

    /** Validates topK arguments; returns min(k, n). */
    public static int topK(Tensor x, int k, float[] values, int[] indices) {
        if (x.rank() != 1) {
            throw new ShapeMismatchException("topK: need a row x [n] (got " + x.shape() + ")");
        }
        if (k < 0) {
            throw new IllegalArgumentException("topK: k must be >= 0, got " + k);
        }
        requireFloat("topK", x);
        int m = Math.min(k, x.dim(0));
        if (values.length < m || indices.length < m) {
            throw new IllegalArgumentException("topK: values/indices need room for " + m + " entries, got "
                    + values.length + " and " + indices.length);
        }
        return m;
    }

    /** Validates topP arguments. */
    public static void topP(Tensor probs, float p, int[] indices) {
        if (probs.rank() != 1) {
            throw new ShapeMismatchException("topP: need a row probs [n] (got " + probs.shape() + ")");
        }
        if (!(p > 0f && p <= 1f)) {
            throw new IllegalArgumentException("topP: p must be in (0, 1], got " + p);
        }
        requireFloat("topP", probs);
        if (indices.length < probs.dim(0)) {
            throw new IllegalArgumentException("topP: indices need room for " + probs.dim(0) + " entries, got "
                    + indices.length);
        }
    }

    /**
     * Requires {@code a[off, off + n)} to lie inside {@code a}.
     *
     * @throws IndexOutOfBoundsException naming the op and array when [off, off+n) leaves the array or n &lt; 0
     */
    /**
     * Rows [off + j·stride, off + j·stride + d) for j in [0, rows) lie inside a; the stride is at least d
     * (rows do not overlap) when there is more than one row.
     */
    public static void rows(String op, String name, float[] a, int off, int stride, int rows, int d) {
        if (rows < 0 || d < 0 || off < 0 || (rows > 1 && stride < d)
                || (rows > 0 && (long) off + (long) (rows - 1) * stride + d > a.length)) {
            throw new IndexOutOfBoundsException(op + ": " + name + " rows (offset " + off + ", stride " + stride
                    + ", " + rows + " rows of " + d + ") out of bounds for length " + a.length);
        }
    }

    /** The ranges of {@code Kernels.dotRows}: q [d], k rows, out [rows]. */
    public static void dotRows(float[] q, int qOff, float[] k, int kOff, int kStride, int rows, int d, float[] out,
                               int oOff) {
        range("dotRows", "q", q, qOff, d);
        rows("dotRows", "k", k, kOff, kStride, rows, d);
        range("dotRows", "out", out, oOff, rows);
    }

    /** The ranges of {@code Kernels.addWeightedRows}: p [rows], v rows, out [d]. */
    public static void addWeightedRows(float[] p, int pOff, float[] v, int vOff, int vStride, int rows, int d,
                                       float[] out, int oOff) {
        range("addWeightedRows", "p", p, pOff, rows);
        rows("addWeightedRows", "v", v, vOff, vStride, rows, d);
        range("addWeightedRows", "out", out, oOff, d);
    }

    public static void range(String op, String name, float[] a, int off, int n) {
        if (n < 0 || off < 0 || off > a.length - n) {
            throw new IndexOutOfBoundsException(op + ": " + name + "[" + off + ", " + off + " + " + n
                    + ") out of bounds for length " + a.length);
        }
    }
}
