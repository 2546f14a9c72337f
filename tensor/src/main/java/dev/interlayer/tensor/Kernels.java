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

    Tensor binary(Binary op, Tensor a, Tensor b, Tensor out);

    Tensor scale(Tensor a, float s, Tensor out);

    Tensor axpy(float alpha, Tensor x, Tensor y);

    Tensor unary(Unary f, Tensor x, Tensor out);

    Tensor rmsNorm(Tensor x, Tensor weight, float eps, boolean onePlusWeight, Tensor out);

    Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out);

    Tensor softmax(Tensor x, SoftmaxOptions options, Tensor out);

    Tensor logSoftmax(Tensor x, SoftmaxOptions options, Tensor out);

    Tensor rope(Tensor x, Rope rope, int[] positions, Tensor out);

    Tensor reduce(Reduction r, Tensor x, int axis, Tensor out);

    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

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
