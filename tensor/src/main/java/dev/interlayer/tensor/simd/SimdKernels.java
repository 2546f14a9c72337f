package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.Binary;
import dev.interlayer.tensor.Kernels;
import dev.interlayer.tensor.Reduction;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.SoftmaxOptions;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;
import dev.interlayer.tensor.kernel.Checks;
import jdk.incubator.vector.FloatVector;

/**
 * Vector API implementation of {@link Kernels}. Every layout is accepted: contiguous F32 rows on the
 * heap are processed in place; other rows (native or mapped F32, F16/BF16, strided or broadcast
 * views) go through a scratch row (see {@link RowCursor}), so results never depend on layout beyond
 * float rounding. Large row ops are split over {@link dev.interlayer.tensor.ComputePool}.
 *
 * <p>This class selects the vector width and dispatches; each job lives in its own class:
 * {@link SimdElementwise}, {@link SimdNorms}, {@link SimdSoftmax}, {@link SimdRope},
 * {@link SimdRowsAndGather}, with the shared drivers in {@link SimdDrivers}.
 */
public final class SimdKernels implements Kernels {
    private final VecOps v;
    private final SimdElementwise elementwise;
    private final SimdNorms norms;
    private final SimdSoftmax softmax;
    private final SimdRope rope;
    private final SimdRowsAndGather rows;

    /**
     * Kernels at a fixed vector width.
     *
     * @param bits 128, 256 or 512 to force that FloatVector species width; -1 for the preferred species
     * @throws IllegalArgumentException for any other value
     */
    public SimdKernels(int bits) {
        int b = bits == -1 ? preferredBits() : bits;
        this.v = switch (b) {
            case 128 -> new Vec128();
            case 256 -> new Vec256();
            case 512 -> new Vec512();
            default -> throw new IllegalArgumentException("SimdKernels: bits must be -1, 128, 256 or 512, got " + bits);
        };
        this.elementwise = new SimdElementwise(v);
        this.norms = new SimdNorms(v);
        this.softmax = new SimdSoftmax(v);
        this.rope = new SimdRope(v);
        this.rows = new SimdRowsAndGather(v);
    }

    /** The preferred species width mapped to one we generate code for (128 on narrower hardware). */
    static int preferredBits() {
        int p = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        return p >= 512 ? 512 : p >= 256 ? 256 : 128;
    }

    /** Vector width in bits. */
    public int bits() {
        return v.bits();
    }

    @Override
    public String name() {
        return "simd-" + v.bits();
    }

    @Override
    public Tensor binary(Binary op, Tensor a, Tensor b, Tensor out) {
        return elementwise.binary(op, a, b, out);
    }

    @Override
    public Tensor scale(Tensor a, float s, Tensor out) {
        return elementwise.scale(a, s, out);
    }

    @Override
    public Tensor axpy(float alpha, Tensor x, Tensor y) {
        return elementwise.axpy(alpha, x, y);
    }

    @Override
    public Tensor unary(Unary f, Tensor x, Tensor out) {
        return elementwise.unary(f, x, out);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps, boolean onePlusWeight, Tensor out) {
        return norms.rmsNorm(x, weight, eps, onePlusWeight, out);
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        return norms.layerNorm(x, weight, bias, eps, out);
    }

    @Override
    public Tensor softmax(Tensor x, SoftmaxOptions o, Tensor out) {
        return softmax.softmax(x, o, out);
    }

    @Override
    public Tensor logSoftmax(Tensor x, SoftmaxOptions o, Tensor out) {
        return softmax.logSoftmax(x, o, out);
    }

    @Override
    public Tensor rope(Tensor x, Rope r, int[] positions, Tensor out) {
        return rope.rope(x, r, positions, out);
    }

    @Override
    public Tensor reduce(Reduction red, Tensor x, int axis, Tensor out) {
        return rows.reduce(red, x, axis, out);
    }

    @Override
    public Tensor embedding(Tensor table, int[] ids, Tensor out) {
        return rows.embedding(table, ids, out);
    }

    @Override
    public Tensor concat(Tensor[] inputs, int axis, Tensor out) {
        return rows.concat(inputs, axis, out);
    }

    // ---- array primitives ----

    @Override
    public float expShiftSum(float[] x, int xOff, float shift, float[] out, int oOff, int n) {
        Checks.range("expShiftSum", "x", x, xOff, n);
        Checks.range("expShiftSum", "out", out, oOff, n);
        return v.expShiftSum(x, xOff, shift, out, oOff, n);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        Checks.range("dot", "a", a, aOff, n);
        Checks.range("dot", "b", b, bOff, n);
        return v.dot(a, aOff, b, bOff, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Checks.range("axpy", "x", x, xOff, n);
        Checks.range("axpy", "y", y, yOff, n);
        v.axpy(alpha, x, xOff, y, yOff, n);
    }

    @Override
    public void dotRows(float[] q, int qOff, float[] k, int kOff, int kStride, int rows, int d, float scale,
                        float[] out, int oOff) {
        Checks.dotRows(q, qOff, k, kOff, kStride, rows, d, out, oOff);
        v.dotRows(q, qOff, k, kOff, kStride, rows, d, scale, out, oOff);
    }

    @Override
    public void addWeightedRows(float[] p, int pOff, float[] vals, int vOff, int vStride, int rows, int d,
                                float[] out, int oOff) {
        Checks.addWeightedRows(p, pOff, vals, vOff, vStride, rows, d, out, oOff);
        v.addWeightedRows(p, pOff, vals, vOff, vStride, rows, d, out, oOff);
    }

    @Override
    public int topK(Tensor x, int k, float[] values, int[] indices) {
        int m = Checks.topK(x, k, values, indices);
        RowCursor c = new RowCursor(x);
        c.read(0, 0, x.dim(0));
        return Selection.topK(c.arr, c.off, x.dim(0), m, values, indices);
    }

    @Override
    public int topP(Tensor probs, float p, int[] indices) {
        Checks.topP(probs, p, indices);
        RowCursor c = new RowCursor(probs);
        c.read(0, 0, probs.dim(0));
        return Selection.topP(c.arr, c.off, probs.dim(0), p, indices);
    }
}
