package dev.interlayer.tensor;

import dev.interlayer.tensor.quant.BlockFormats;
import dev.interlayer.tensor.quant.QuantMatMul;
import dev.interlayer.tensor.quant.QuantMatVecs;
import dev.interlayer.tensor.simd.GemmKernel;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Matrix products behind {@link Ops#matmulT} and {@link Ops#matmul}: checks shapes and dtypes,
 * turns tensor views into strided matrices (copying only activations that are not row-contiguous,
 * never the weights) and hands them to a {@link GemmKernel}: the Vector API one
 * ({@code simd.GemmVector}) when available, else {@link GemmScalar}. {@link GemmReference} is the
 * oracle tests compare both against. Block-quantized weights (GGML Q8_0 … Q6_K) go to
 * {@link QuantMatMul}, which reads them in place.
 */
final class MatMul {
    /** The kernel chosen for this JVM (same rule as {@link Kernels#active()}). */
    static final GemmKernel ACTIVE = select();

    private MatMul() {
    }

    private static GemmKernel select() {
        if (KernelSelection.requestedBits() == 0 || !KernelSelection.vectorModulePresent()) {
            return GemmScalar.INSTANCE;
        }
        try {
            return (GemmKernel) Class.forName("dev.interlayer.tensor.simd.GemmVector").getConstructor().newInstance();
        } catch (ClassNotFoundException | LinkageError e) {
            System.getLogger("dev.interlayer.tensor")
                    .log(System.Logger.Level.WARNING, "SIMD GEMM unavailable (" + e + "); using scalar");
            return GemmScalar.INSTANCE;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create SIMD GEMM kernel", e);
        }
    }

    // ---- x · wᵀ ----

    /** out[..., n] = x[..., k] · w[n, k]ᵀ. */
    static void matmulT(Tensor x, Tensor w, Tensor out) {
        matmulT(x, w, out, ACTIVE);
    }

    static void matmulT(Tensor x, Tensor w, Tensor out, GemmKernel kernel) {
        if (w.rank() != 2 || x.rank() < 1 || out.rank() != x.rank() || x.dim(-1) != w.dim(1)
                || out.dim(-1) != w.dim(0) || !sameLeading(x, out, 1)) {
            throw new ShapeMismatchException("matmulT: need x[..., k], w[n, k], out[..., n] (got x " + x.shape()
                    + ", w " + w.shape() + ", out " + out.shape() + ")");
        }
        requireFloat("matmulT x", x);
        if (w.dtype().isQuantized()) {
            requireFloat("matmulT out", out);
            quantized(x, w, out);
            return;
        }
        requireFloat("matmulT w", w);
        requireFloat("matmulT out", out);
        int k = x.dim(-1), n = w.dim(0);
        int m = Math.toIntExact(x.size() == 0 ? leading(x, 1).size() : x.size() / Math.max(1, k));
        Tensor a = rows(x, m, k);
        gemm(kernel, m, n, k, a, w, w.stride(0), w.stride(1), out);
    }

    /**
     * outs[i] = x · ws[i]ᵀ for every i: one parallel region when x is a single row, the weights have
     * contiguous rows and every out can be written directly; else one {@link #matmulT} per weight.
     */
    static void matmulT(Tensor x, Tensor[] ws, Tensor[] outs) {
        matmulT(x, ws, outs, ACTIVE);
    }

    static void matmulT(Tensor x, Tensor[] ws, Tensor[] outs, GemmKernel kernel) {
        if (ws.length != outs.length) {
            throw new IllegalArgumentException("matmulT: " + ws.length + " weights but " + outs.length + " outputs");
        }
        boolean fused = x.rank() >= 1;
        boolean dense = true;     // no quantized weight: several rows may go to kernel.gemms together
        boolean quant = QuantMatVecs.FUSED && ws.length > 1 && ws.length <= QuantMatVecs.MAX;   // all quantized
        for (int i = 0; i < ws.length; i++) {
            Tensor w = ws[i], out = outs[i];
            if (w.rank() != 2 || x.rank() < 1 || out.rank() != x.rank() || x.dim(-1) != w.dim(1)
                    || out.dim(-1) != w.dim(0) || !sameLeading(x, out, 1)) {
                throw new ShapeMismatchException("matmulT: need x[..., k], w" + i + "[n, k], out" + i
                        + "[..., n] (got x " + x.shape() + ", w" + i + " " + w.shape() + ", out" + i + " "
                        + out.shape() + ")");
            }
            quant &= BlockFormats.supports(w.dtype()) && (w.dim(0) <= 1 || w.stride(0) == w.dim(1));
            fused &= !w.dtype().isQuantized();      // quantized weights: QuantMatVecs or one product each
            dense &= !w.dtype().isQuantized() && w.stride(1) == 1;
            if ((!w.dtype().isFloatingPoint() && !w.dtype().isQuantized()) || !out.dtype().isFloatingPoint()) {
                requireFloat("matmulT w" + i, w);       // names built only on failure
                requireFloat("matmulT out" + i, out);
            }
            boolean direct = w.stride(1) == 1 && out.size() == w.dim(0) && out.heapFloats() != null
                    && !out.isReadOnly() && (out.stride(-1) == 1 || w.dim(0) == 1) && !overlaps(out, x);
            fused &= direct;
            quant &= direct;
        }
        requireFloat("matmulT x", x);
        int k = x.dim(-1);
        if (quant && x.size() == k && k > 0) {
            quantized(x, ws, outs, k);
            return;
        }
        if (dense && x.size() != k && k > 0 && ws.length > 1 && sharedRows(x, k, ws, outs, kernel)) {
            return;
        }
        if (!fused || x.size() != k || k == 0) {
            for (int i = 0; i < ws.length; i++) {
                matmulT(x, ws[i], outs[i], kernel);
            }
            return;
        }
        Tensor a = rows(x, 1, k);
        kernel.matvecs(k, a.heapFloats(), GemmKernel.heapIndex(a), ws, outs);
    }

    /**
     * outs[i] = x · ws[i]ᵀ for x of m &gt; 1 rows through one {@link GemmKernel#gemms} call (the activation blocks
     * packed once for all weights), when every out can be written directly; false, having done nothing, otherwise.
     */
    private static boolean sharedRows(Tensor x, int k, Tensor[] ws, Tensor[] outs, GemmKernel kernel) {
        int m = Math.toIntExact(x.size() / k);
        if (m <= 1) {
            return false;
        }
        Tensor a = rows(x, m, k);
        // outs itself when every out is already a writable [m, n] view (the batched decode step): a new array per
        // call was the only allocation left in a warm batched step (24-32 B per product, 112-238 B per step)
        Tensor[] cs = outs;
        for (int i = 0; i < outs.length; i++) {
            int n = ws[i].dim(0);
            Tensor c = n == 0 || overlaps(outs[i], a) ? null : writableRows(outs[i], m, n);
            if (c == null) {
                return false;
            }
            if (c != outs[i]) {
                cs = cs == outs ? outs.clone() : cs;
                cs[i] = c;
            }
        }
        kernel.gemms(m, k, a.heapFloats(), GemmKernel.heapIndex(a), Math.toIntExact(a.stride(0)), ws, cs);
        return true;
    }

    /** outs[i] = x · ws[i]ᵀ for one row x and block-quantized ws, in one parallel region ({@link QuantMatVecs}). */
    private static void quantized(Tensor x, Tensor[] ws, Tensor[] outs, int k) {
        Tensor a = rows(x, 1, k);
        QuantMatVecs g = QuantMatVecs.lease();
        for (int i = 0; i < ws.length; i++) {
            Tensor w = ws[i], out = outs[i];
            g.add(BlockFormats.of(w.dtype()), w.dim(0), w.segment(), w.byteOffset(), out.heapFloats(),
                    GemmKernel.heapIndex(out));
        }
        g.run(k, a.heapFloats(), GemmKernel.heapIndex(a));
    }

    /**
     * x · wᵀ with w [n, k] block-quantized and read in place by {@link QuantMatMul} (its rows must be
     * contiguous, which quantized tensors always are unless sliced along columns).
     */
    private static void quantized(Tensor x, Tensor w, Tensor out) {
        if (!BlockFormats.supports(w.dtype())) {
            throw new UnsupportedDTypeException("matmulT w", w.dtype(), DType.F32, DType.F16, DType.BF16, DType.Q8_0,
                    DType.Q4_0, DType.Q4_K, DType.Q6_K);
        }
        int k = x.dim(-1), n = w.dim(0);
        if (n > 1 && w.stride(0) != k || w.stride(1) != 1) {
            throw new IllegalArgumentException("matmulT: quantized weight " + w + " must have contiguous rows");
        }
        int m = Math.toIntExact(x.size() == 0 ? leading(x, 1).size() : x.size() / Math.max(1, k));
        if (m == 0 || n == 0) {
            return;
        }
        Tensor a = rows(x, m, k);
        Tensor c = writableRows(out, m, n);
        if (c == null || overlaps(out, a)) {
            c = Tensor.zeros(Shape.of(m, n));
        }
        QuantMatMul.matmulT(BlockFormats.of(w.dtype()), m, n, k, a.heapFloats(), GemmKernel.heapIndex(a),
                Math.toIntExact(a.stride(0)), w.segment(), w.byteOffset(), c.heapFloats(), GemmKernel.heapIndex(c),
                Math.toIntExact(c.stride(0)));
        if (c.segment() != out.segment() || c.offset() != out.offset()) {
            out.copyFrom(c.reshape(out.shape()));
        }
    }

    // ---- a · b, batched ----

    /** out[..., m, n] = a[..., m, k] · b[..., k, n]. */
    static void matmul(Tensor a, Tensor b, Tensor out) {
        matmul(a, b, out, ACTIVE);
    }

    static void matmul(Tensor a, Tensor b, Tensor out, GemmKernel kernel) {
        if (a.rank() < 2 || b.rank() != a.rank() || out.rank() != a.rank() || a.dim(-1) != b.dim(-2)
                || out.dim(-2) != a.dim(-2) || out.dim(-1) != b.dim(-1)
                || !leading(a, 2).equals(leading(b, 2)) || !leading(a, 2).equals(leading(out, 2))) {
            throw new ShapeMismatchException("matmul: need a[..., m, k], b[..., k, n], out[..., m, n] (got a "
                    + a.shape() + ", b " + b.shape() + ", out " + out.shape() + ")");
        }
        requireFloat("matmul a", a);
        requireFloat("matmul b", b);
        requireFloat("matmul out", out);
        Shape bs = leading(a, 2);
        int m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
        int[] idx = new int[bs.rank()];
        for (long bi = 0, batches = bs.size(); bi < batches; bi++) {
            Tensor ab = a, bb = b, ob = out;
            for (int i = 0; i < idx.length; i++) {
                ab = ab.select(0, idx[i]);
                bb = bb.select(0, idx[i]);
                ob = ob.select(0, idx[i]);
            }
            gemm(kernel, m, n, k, rows(ab, m, k), bb, bb.stride(1), bb.stride(0), ob);
            for (int i = idx.length - 1; i >= 0; i--) {     // next batch index, last axis fastest
                if (++idx[i] < bs.dim(i)) {
                    break;
                }
                idx[i] = 0;
            }
        }
    }

    // ---- shared ----

    /** Runs the kernel into out [.., n] viewed as [m, n], through a temporary if out cannot be written directly. */
    private static void gemm(GemmKernel kernel, int m, int n, int k, Tensor a, Tensor b, long bsn, long bsk,
                             Tensor out) {
        if (m == 0 || n == 0) {
            return;
        }
        Tensor c = writableRows(out, m, n);
        if (c == null || overlaps(out, a)) {
            c = Tensor.zeros(Shape.of(m, n));
        }
        kernel.gemm(m, n, k, a.heapFloats(), GemmKernel.heapIndex(a), Math.toIntExact(a.stride(0)),
                b.segment(), b.dtype(), b.offset(), bsn, bsk,
                c.heapFloats(), GemmKernel.heapIndex(c), Math.toIntExact(c.stride(0)));
        if (c.segment() != out.segment() || c.offset() != out.offset()) {
            out.copyFrom(c.reshape(out.shape()));
        }
    }

    /**
     * t [..., cols] as a heap F32 [rows, cols] with unit column stride: a view when possible, else a copy
     * (activations only; weights never pass through here).
     */
    private static Tensor rows(Tensor t, int rows, int cols) {
        boolean heap = t.heapFloats() != null;
        if (heap && t.rank() == 2 && (t.stride(1) == 1 || cols <= 1)) {
            return t;
        }
        if (heap && t.isContiguous()) {
            return t.reshape(Shape.of(rows, cols));
        }
        return t.toF32().reshape(Shape.of(rows, cols));
    }

    /** out as a writable heap F32 [m, n] view with unit column stride and non-overlapping rows, or null. */
    private static Tensor writableRows(Tensor out, int m, int n) {
        if (out.heapFloats() == null || out.isReadOnly()) {
            return null;
        }
        if (out.rank() == 2 && (out.stride(1) == 1 || n == 1) && (m == 1 || out.stride(0) >= n)) {
            return out;
        }
        return out.isContiguous() ? out.reshape(Shape.of(m, n)) : null;
    }

    /**
     * True if the memory spanned by the two views intersects (conservative for strided views). Plain
     * arithmetic on addresses, nothing allocated: on the decode path the activations are often views of
     * one scratch array, and the segment slices and Optionals a segment-based test builds were left on the
     * heap in some JIT profiles (16-100 B per product).
     */
    private static boolean overlaps(Tensor t, Tensor u) {
        if (t.size() == 0 || u.size() == 0) {
            return false;
        }
        MemorySegment a = t.segment(), b = u.segment();
        if (a.isNative() != b.isNative() || (!a.isNative() && !sameArray(t, u))) {
            return false;
        }
        long t0 = a.address() + t.offset() * t.dtype().blockBytes(), t1 = a.address() + spanEnd(t);
        long u0 = b.address() + u.offset() * u.dtype().blockBytes(), u1 = b.address() + spanEnd(u);
        return t0 < u1 && u0 < t1;
    }

    /** Whether two heap views share their array (F32 arrays through the tensors' cached reference). */
    private static boolean sameArray(Tensor t, Tensor u) {
        float[] ft = t.heapFloats(), fu = u.heapFloats();
        if (ft != null && fu != null) {
            return ft == fu;
        }
        return t.segment().heapBase().orElse(null) == u.segment().heapBase().orElse(null);
    }

    /** Byte offset, from the segment's address, just past the last element the view can reach. */
    private static long spanEnd(Tensor t) {
        long last = t.offset();
        for (int i = 0; i < t.rank(); i++) {
            last += (t.dim(i) - 1) * t.stride(i);
        }
        return (last + 1) * t.dtype().blockBytes();
    }

    private static void requireFloat(String what, Tensor t) {
        if (!t.dtype().isFloatingPoint()) {
            throw new UnsupportedDTypeException(what, t.dtype(), DType.F32, DType.F16, DType.BF16);
        }
    }

    /** True if a and b have equal dims except their last {@code drop} axes (same rank assumed checked). */
    private static boolean sameLeading(Tensor a, Tensor b, int drop) {
        int ra = a.rank() - drop, rb = b.rank() - drop;
        if (Math.max(0, ra) != Math.max(0, rb)) {
            return false;
        }
        for (int i = 0; i < ra; i++) {
            if (a.dim(i) != b.dim(i)) {
                return false;
            }
        }
        return true;
    }

    /** The shape without its last {@code drop} axes. */
    private static Shape leading(Tensor t, int drop) {
        int[] d = t.shape().dims();
        return Shape.of(Arrays.copyOf(d, Math.max(0, d.length - drop)));
    }
}
