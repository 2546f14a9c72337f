package dev.interlayer.tensor;

/**
 * The public kernel facade: every op the layers above use, on F32 activations.
 *
 * <p>Ops write into an explicit {@code out} and return it; inputs are not modified unless an
 * argument is also passed as {@code out}. Row ops (norms, softmax, RoPE) work on the last axis and
 * loop over all leading axes. The implementation (SIMD via {@code jdk.incubator.vector}, or the
 * scalar reference) is chosen once per JVM; see {@link Kernels}.
 *
 * <p>This class is the stable contract; the kernels behind it may change.
 */
public final class Ops {
    private Ops() {
    }

    // ---- matrix products ----

    /**
     * out = x · wᵀ (a linear layer with weights stored [out, in]).
     * Shapes: x [..., k] F32; w [n, k] in F32, F16, BF16 or a GGML block format (Q8_0 … Q6_K, IQ4_NL,
     * IQ4_XS, read in place by {@code quant.QuantMatMul}); out [..., n] F32.
     *
     * @throws ShapeMismatchException naming the op and the shapes
     */
    public static Tensor matmulT(Tensor x, Tensor w, Tensor out) {
        MatMul.matmulT(x, w, out);
        return out;
    }

    /**
     * outs[i] = x · ws[i]ᵀ for every i: several linear layers on the same input (Q/K/V, gate/up), run as
     * one parallel region when x is one row (block-quantized weights: one product each). Shapes: x [..., k] F32;
     * ws[i] [n_i, k] F32/F16/BF16 or block-quantized;
     * outs[i] [..., n_i] F32. Modifies outs only; the arrays themselves are not kept or changed.
     *
     * @throws ShapeMismatchException naming the op, the index and the shapes
     */
    public static void matmulT(Tensor x, Tensor[] ws, Tensor[] outs) {
        MatMul.matmulT(x, ws, outs);
    }

    /**
     * out = a · b, batched over leading axes (which must be equal).
     * Shapes: a [..., m, k]; b [..., k, n]; out [..., m, n]; all F32 (b may be F16/BF16).
     */
    public static Tensor matmul(Tensor a, Tensor b, Tensor out) {
        MatMul.matmul(a, b, out);
        return out;
    }

    /** out = w · x. Shapes: w [n, k] F32/F16/BF16; x [k]; out [n]. */
    public static Tensor matvec(Tensor w, Tensor x, Tensor out) {
        MatMul.matmulT(x.reshape(1, x.dim(-1)), w, out.reshape(1, out.dim(-1)));
        return out;
    }

    // ---- element-wise ----

    /** out = a + b with NumPy broadcasting. */
    public static Tensor add(Tensor a, Tensor b, Tensor out) {
        return Kernels.active().binary(Binary.ADD, a, b, out);
    }

    /** out = a - b with broadcasting. */
    public static Tensor sub(Tensor a, Tensor b, Tensor out) {
        return Kernels.active().binary(Binary.SUB, a, b, out);
    }

    /** out = a * b with broadcasting. */
    public static Tensor mul(Tensor a, Tensor b, Tensor out) {
        return Kernels.active().binary(Binary.MUL, a, b, out);
    }

    /** out = a / b with broadcasting. */
    public static Tensor div(Tensor a, Tensor b, Tensor out) {
        return Kernels.active().binary(Binary.DIV, a, b, out);
    }

    /** out = max(a, b) with broadcasting (NaN propagates). */
    public static Tensor maximum(Tensor a, Tensor b, Tensor out) {
        return Kernels.active().binary(Binary.MAX, a, b, out);
    }

    /** out = s * a. */
    public static Tensor scale(Tensor a, float s, Tensor out) {
        return Kernels.active().scale(a, s, out);
    }

    /** y += alpha * x (same shape). Modifies y. */
    public static Tensor axpy(float alpha, Tensor x, Tensor y) {
        return Kernels.active().axpy(alpha, x, y);
    }

    /** out = f(x) for a unary activation. */
    public static Tensor unary(Unary f, Tensor x, Tensor out) {
        return Kernels.active().unary(f, x, out);
    }

    // ---- normalisation and softmax (last axis) ----

    /**
     * out = x / sqrt(mean(x²) + eps) * (w or 1 + w). Shapes: x, out [..., d]; weight [d] or null.
     *
     * @param onePlusWeight Gemma's (1 + w) form when true
     */
    public static Tensor rmsNorm(Tensor x, Tensor weight, float eps, boolean onePlusWeight, Tensor out) {
        return Kernels.active().rmsNorm(x, weight, eps, onePlusWeight, out);
    }

    /** out = (x - mean) / sqrt(var + eps) * w + b (biased variance). weight/bias [d] or null. */
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        return Kernels.active().layerNorm(x, weight, bias, eps, out);
    }

    /** Numerically stable softmax over the last axis. */
    public static Tensor softmax(Tensor x, Tensor out) {
        return Kernels.active().softmax(x, SoftmaxOptions.NONE, out);
    }

    /** Softmax over the last axis with masking and soft-capping; see {@link SoftmaxOptions}. */
    public static Tensor softmax(Tensor x, SoftmaxOptions options, Tensor out) {
        return Kernels.active().softmax(x, options, out);
    }

    /** log-softmax over the last axis. */
    public static Tensor logSoftmax(Tensor x, SoftmaxOptions options, Tensor out) {
        return Kernels.active().logSoftmax(x, options, out);
    }

    // ---- positions ----

    /**
     * Applies rotary position embedding in place over the last axis (one head of width headDim).
     * Shapes: x [..., tokens, heads, headDim] or [tokens, heads*headDim]; see {@link Rope}.
     */
    public static Tensor rope(Tensor x, Rope rope, int[] positions, Tensor out) {
        return Kernels.active().rope(x, rope, positions, out);
    }

    // ---- reductions ----

    /** Reduces {@code axis} (kept as size 1 in {@code out}). */
    public static Tensor reduce(Reduction r, Tensor x, int axis, Tensor out) {
        return Kernels.active().reduce(r, x, axis, out);
    }

    // ---- array primitives used inside attention and norms ----

    /**
     * out[oOff+i] = exp(x[xOff+i] - shift) for i in [0, n), returning their sum: the exponentials of a
     * softmax row without allocating. {@code out} may alias {@code x} at the same offset.
     */
    public static float expShiftSum(float[] x, int xOff, float shift, float[] out, int oOff, int n) {
        return Kernels.active().expShiftSum(x, xOff, shift, out, oOff, n);
    }

    /** Σ a[aOff+i]·b[bOff+i] for i in [0, n). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return Kernels.active().dot(a, aOff, b, bOff, n);
    }

    /** y[yOff+i] += alpha·x[xOff+i] for i in [0, n). */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Kernels.active().axpy(alpha, x, xOff, y, yOff, n);
    }

    /**
     * out[oOff+j] = scale·Σ_i q[qOff+i]·k[kOff + j·kStride + i] for j &lt; rows, i &lt; d: one query's
     * attention scores against a run of cached key rows, in one call instead of one dot per key.
     */
    public static void dotRows(float[] q, int qOff, float[] k, int kOff, int kStride, int rows, int d, float scale,
                               float[] out, int oOff) {
        Kernels.active().dotRows(q, qOff, k, kOff, kStride, rows, d, scale, out, oOff);
    }

    /**
     * out[oOff+i] += Σ_j p[pOff+j]·v[vOff + j·vStride + i] for i &lt; d, j &lt; rows in order: the
     * probability-weighted sum of a run of cached value rows (out stays in registers across rows).
     */
    public static void addWeightedRows(float[] p, int pOff, float[] v, int vOff, int vStride, int rows, int d,
                                       float[] out, int oOff) {
        Kernels.active().addWeightedRows(p, pOff, v, vOff, vStride, rows, d, out, oOff);
    }

    // ---- gather, concat, selection ----

    /**
     * Embedding lookup: out[i, :] = table[ids[i], :].
     * Shapes: table [V, d] F32/F16/BF16 or block-quantized (only the requested rows are dequantized;
     * e.g. a mapped weight); out [ids.length, d].
     *
     * @throws IndexOutOfBoundsException naming the position, the id and the vocabulary size (nothing is written)
     */
    public static Tensor embedding(Tensor table, int[] ids, Tensor out) {
        if (table.dtype().isQuantized()) {         // block-quantized table: dequantize only the rows asked for
            return dev.interlayer.tensor.quant.QuantEmbedding.lookup(table, ids, out);
        }
        return Kernels.active().embedding(table, ids, out);
    }

    /** out = inputs concatenated along {@code axis}. Shapes: inputs equal to out except along axis. */
    public static Tensor concat(Tensor[] inputs, int axis, Tensor out) {
        return Kernels.active().concat(inputs, axis, out);
    }

    /**
     * The k largest entries of a row, best first (ties to the lower index, NaN last).
     * Shapes: x [n]; values and indices receive min(k, n) entries. Returns that count.
     */
    public static int topK(Tensor x, int k, float[] values, int[] indices) {
        return Kernels.active().topK(x, k, values, indices);
    }

    /**
     * Nucleus (top-p) set: the fewest most-probable indices whose probabilities sum to at least p,
     * best first. Shapes: probs [n]; indices has room for n. Returns the set size.
     */
    public static int topP(Tensor probs, float p, int[] indices) {
        return Kernels.active().topP(probs, p, indices);
    }
}
