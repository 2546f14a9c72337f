package dev.interlayer.tensor;

import dev.interlayer.tensor.kernel.ScalarKernels;

/**
 * One implementation of every non-GEMM op. Two exist: the scalar reference
 * ({@link ScalarKernels}, the oracle) and the SIMD version in {@code dev.interlayer.tensor.simd},
 * loaded reflectively so that this API never mentions {@code jdk.incubator.vector}.
 *
 * <p>Selection, once per JVM: system property {@code dev.interlayer.simd.bits} = 0 forces scalar,
 * 128/256/512 force that vector width; otherwise the preferred species is used if the
 * {@code jdk.incubator.vector} module is present, else scalar with one warning.
 */
public interface Kernels {

    /**
     * out = op(a, b) element-wise with NumPy broadcasting.
     * Shapes: a, b broadcastable; out the broadcast shape, F32. Modifies out only.
     *
     * @throws ShapeMismatchException naming the op and both shapes
     */
    Tensor binary(Binary op, Tensor a, Tensor b, Tensor out);

    /** out = s·a. Shapes: a, out equal. */
    Tensor scale(Tensor a, float s, Tensor out);

    /** y += alpha·x (SIMD fuses the multiply-add). Shapes: x, y equal. Modifies y. */
    Tensor axpy(float alpha, Tensor x, Tensor y);

    /** out = f(x) element-wise. Shapes: x, out equal. */
    Tensor unary(Unary f, Tensor x, Tensor out);

    /** out = x / sqrt(mean(x²) + eps) · (w, 1 + w, or 1). Shapes: x, out [..., d]; weight [d] or null. */
    Tensor rmsNorm(Tensor x, Tensor weight, float eps, boolean onePlusWeight, Tensor out);

    /** out = (x - mean) / sqrt(var + eps) · w + b, biased variance. Shapes: x, out [..., d]; weight, bias [d] or null. */
    Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out);

    /** out = softmax over the last axis after the {@link SoftmaxOptions} transforms. Shapes: x, out equal. */
    Tensor softmax(Tensor x, SoftmaxOptions options, Tensor out);

    /** out = log(softmax(x)) over the last axis; fully masked rows give -Inf. Shapes: x, out equal. */
    Tensor logSoftmax(Tensor x, SoftmaxOptions options, Tensor out);

    /** out = x rotated by RoPE at positions[token]. Shapes: x, out [tokens, ...] with headDim | per-token width; out may be x. */
    Tensor rope(Tensor x, Rope rope, int[] positions, Tensor out);

    /** out = r over {@code axis} of x. Shapes: out is x's shape with that axis set to 1. */
    Tensor reduce(Reduction r, Tensor x, int axis, Tensor out);

    /** Σ a[aOff+i]·b[bOff+i], i in [0, n). @throws IndexOutOfBoundsException if a range leaves its array */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /**
     * out[oOff+i] = exp(x[xOff+i] - shift) for i in [0, n); returns the sum of the outputs (the inner
     * loop of a softmax). {@code out} may be {@code x} at the same offset; -∞ inputs give 0.
     *
     * @throws IndexOutOfBoundsException if a range leaves its array
     */
    float expShiftSum(float[] x, int xOff, float shift, float[] out, int oOff, int n);

    /** y[yOff+i] += alpha·x[xOff+i], i in [0, n). Modifies y. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /**
     * out[oOff+j] = scale·Σ_i q[qOff+i]·k[kOff + j·kStride + i] for j in [0, rows), i in [0, d): the
     * attention scores of one query against a run of cached key rows (row stride kStride ≥ d).
     *
     * @throws IndexOutOfBoundsException if a range leaves its array
     */
    void dotRows(float[] q, int qOff, float[] k, int kOff, int kStride, int rows, int d, float scale, float[] out,
                 int oOff);

    /**
     * out[oOff+i] += Σ_j p[pOff+j]·v[vOff + j·vStride + i] for i in [0, d), rows j in [0, rows) added in
     * order: the probability-weighted sum of a run of cached value rows. Modifies out.
     *
     * @throws IndexOutOfBoundsException if a range leaves its array
     */
    void addWeightedRows(float[] p, int pOff, float[] v, int vOff, int vStride, int rows, int d, float[] out,
                         int oOff);

    /**
     * Embedding lookup: out[i, :] = table[ids[i], :].
     * Shapes: table [V, d] F32/F16/BF16; out [ids.length, d] (F32, or F16/BF16 with rounding).
     *
     * @throws IndexOutOfBoundsException naming the position, the id and the vocabulary size
     * @throws ShapeMismatchException naming the op and the shapes
     */
    Tensor embedding(Tensor table, int[] ids, Tensor out);

    /**
     * Concatenation along {@code axis}: out = [inputs[0] | inputs[1] | ...].
     * Shapes: every input equal to out except along {@code axis}, where the sizes add up to out's.
     */
    Tensor concat(Tensor[] inputs, int axis, Tensor out);

    /**
     * The k largest values of a row, sorted descending; ties go to the lower index; NaN ranks below
     * every number. Shapes: x [n]; writes min(k, n) entries to values and indices.
     *
     * @return the number of entries written, min(k, n)
     */
    int topK(Tensor x, int k, float[] values, int[] indices);

    /**
     * Nucleus set: the smallest prefix of the indices sorted by probability (descending, ties to the
     * lower index) whose mass is at least {@code p} (all indices if rounding keeps the total below p).
     * Shapes: probs [n], non-negative; indices needs room for n.
     *
     * @return the number of indices written (at least 1 when n &gt; 0)
     */
    int topP(Tensor probs, float p, int[] indices);

    /** A short name such as "scalar" or "simd-512". */
    String name();

    /** The implementation chosen for this JVM. */
    static Kernels active() {
        return KernelSelection.ACTIVE;
    }

    /** The scalar reference implementation. */
    static Kernels scalar() {
        return KernelSelection.SCALAR;
    }
}
