package dev.interlayer.tensor;

/**
 * Matrix products behind {@link Ops#matmulT} and {@link Ops#matmul}.
 * (Initial straightforward version: correct for every layout; the fast paths replace its inner loops.)
 */
final class MatMul {
    private MatMul() {
    }

    /** out[..., n] = x[..., k] · w[n, k]ᵀ. */
    static void matmulT(Tensor x, Tensor w, Tensor out) {
        if (w.rank() != 2 || x.rank() < 1 || out.rank() != x.rank() || x.dim(-1) != w.dim(1)
                || out.dim(-1) != w.dim(0) || !leading(x).equals(leading(out))) {
            throw new ShapeMismatchException("matmulT: need x[..., k], w[n, k], out[..., n] (got x " + x.shape()
                    + ", w " + w.shape() + ", out " + out.shape() + ")");
        }
        if (!w.dtype().isFloatingPoint()) {
            throw new UnsupportedDTypeException("matmulT weights", w.dtype(), DType.F32, DType.F16, DType.BF16);
        }
        int k = x.dim(-1), n = w.dim(0);
        long m = x.size() / Math.max(1, k);
        if (k == 0) {
            m = out.size() / Math.max(1, n);
        }
        Tensor x2 = x.contiguous().reshape(Shape.ofLong(m, k));
        Tensor o2 = out.isContiguous() ? out.reshape(Shape.ofLong(m, n)) : Tensor.zeros(Shape.ofLong(m, n));
        final long rows = m;
        ComputePool.parallelFor(Math.min(n, ComputePool.threads() * 4), chunk -> {
            int chunks = Math.min(n, ComputePool.threads() * 4);
            int lo = (int) ((long) n * chunk / chunks), hi = (int) ((long) n * (chunk + 1) / chunks);
            float[] wrow = new float[k];
            for (int j = lo; j < hi; j++) {
                long wOff = w.offset() + j * w.stride(0);
                for (int c = 0; c < k; c++) {
                    wrow[c] = w.readFloat(wOff + c * w.stride(1));
                }
                for (long i = 0; i < rows; i++) {
                    long xo = x2.offset() + i * k;
                    float acc = 0;
                    for (int c = 0; c < k; c++) {
                        acc += x2.readFloat(xo + c) * wrow[c];
                    }
                    o2.writeFloat(o2.offset() + i * n + j, acc);
                }
            }
        });
        if (o2 != out && !out.isContiguous()) {
            out.copyFrom(o2.reshape(out.shape()));
        }
    }

    /** out[..., m, n] = a[..., m, k] · b[..., k, n]. */
    static void matmul(Tensor a, Tensor b, Tensor out) {
        if (a.rank() < 2 || b.rank() != a.rank() || out.rank() != a.rank() || a.dim(-1) != b.dim(-2)
                || out.dim(-2) != a.dim(-2) || out.dim(-1) != b.dim(-1)
                || !batch(a).equals(batch(b)) || !batch(a).equals(batch(out))) {
            throw new ShapeMismatchException("matmul: need a[..., m, k], b[..., k, n], out[..., m, n] (got a "
                    + a.shape() + ", b " + b.shape() + ", out " + out.shape() + ")");
        }
        int r = a.rank();
        Shape bs = batch(a);
        int batches = (int) bs.size();
        int m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
        for (int bi = 0; bi < batches; bi++) {
            Tensor ab = a, bb = b, ob = out;
            int rem = bi;
            int[] idx = new int[r - 2];
            for (int i = r - 3; i >= 0; i--) {
                idx[i] = rem % bs.dim(i);
                rem /= bs.dim(i);
            }
            for (int i = 0; i < r - 2; i++) {
                ab = ab.select(0, idx[i]);
                bb = bb.select(0, idx[i]);
                ob = ob.select(0, idx[i]);
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float acc = 0;
                    for (int c = 0; c < k; c++) {
                        acc += ab.getFloat(i, c) * bb.getFloat(c, j);
                    }
                    ob.setFloat(acc, i, j);
                }
            }
        }
    }

    private static Shape leading(Tensor t) {
        int[] d = t.shape().dims();
        return Shape.of(java.util.Arrays.copyOf(d, Math.max(0, d.length - 1)));
    }

    private static Shape batch(Tensor t) {
        int[] d = t.shape().dims();
        return Shape.of(java.util.Arrays.copyOf(d, Math.max(0, d.length - 2)));
    }
}
