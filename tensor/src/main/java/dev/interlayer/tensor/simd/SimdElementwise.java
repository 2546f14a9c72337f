package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.Binary;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;
import dev.interlayer.tensor.kernel.Broadcast;
import dev.interlayer.tensor.kernel.Checks;
import dev.interlayer.tensor.kernel.Rows;

import static dev.interlayer.tensor.simd.SimdDrivers.*;

/** Element-wise kernels of {@link SimdKernels}: binary ops with broadcasting, scale, axpy and unary functions. */
final class SimdElementwise {
    private final VecOps v;

    SimdElementwise(VecOps v) {
        this.v = v;
    }


    Tensor binary(Binary op, Tensor a, Tensor b, Tensor out) {
        if (a.shape().equals(out.shape()) && out.size() <= Integer.MAX_VALUE && out.rank() >= 1) {
            float[] ad = direct(a), od = direct(out);
            int n = (int) out.size(), d = out.dim(-1);
            if (ad != null && od != null && sequential(Rows.rowCount(out), n)) {
                int ai = GemmKernel.heapIndex(a), oi = GemmKernel.heapIndex(out);
                // b of out's shape (a heap tensor, or e.g. learned-position rows of a mapped table), or one
                // row [d] broadcast over every row (a mapped bias): no cursors, lambdas or allocation.
                boolean same = b.shape().equals(out.shape()), row = b.rank() == 1 && b.dim(0) == d;
                float[] bd = same || row ? rowArray(b, same ? n : d, 2) : null;
                if (bd != null) {
                    int bi = rowArrayOffset(b);
                    if (same) {
                        v.binary(op, ad, ai, bd, bi, od, oi, n);
                    } else {
                        for (int r = 0; r < n; r += d) {
                            v.binary(op, ad, ai + r, bd, bi, od, oi + r, d);
                        }
                    }
                    return out;
                }
            }
        }
        Shape s = Broadcast.shape("binary " + op, a.shape(), b.shape());
        Checks.sameShape("binary " + op + " out", s, out.shape());
        Checks.requireF32("binary " + op, out);
        Checks.requireFloat("binary " + op, a);
        Checks.requireFloat("binary " + op, b);
        Tensor ea = a.shape().equals(s) ? a : a.expand(s);
        Tensor eb = b.shape().equals(s) ? b : b.expand(s);
        elementwise(out, new Tensor[] {ea, eb}, false, 1, (in, o, len) ->
                v.binary(op, in[0].arr, in[0].off, in[1].arr, in[1].off, o.arr, o.off, len));
        return out;
    }

    Tensor scale(Tensor a, float s, Tensor out) {
        Checks.sameShape("scale", a.shape(), out.shape());
        Checks.requireFloat("scale", a);
        Checks.requireFloat("scale out", out);
        float[] ad = direct(a), od = direct(out);
        if (ad != null && od != null && out.size() <= Integer.MAX_VALUE
                && sequential(out.rank() == 0 ? 1 : Rows.rowCount(out), out.size())) {
            // Contiguous heap F32 (Gemma's embedding scale, once per decode step): no cursors or lambda.
            v.scale(ad, GemmKernel.heapIndex(a), s, od, GemmKernel.heapIndex(out), (int) out.size());
            return out;
        }
        elementwise(out, new Tensor[] {a}, false, 1, (in, o, len) ->
                v.scale(in[0].arr, in[0].off, s, o.arr, o.off, len));
        return out;
    }

    Tensor axpy(float alpha, Tensor x, Tensor y) {
        Checks.sameShape("axpy", x.shape(), y.shape());
        Checks.requireFloat("axpy", x);
        Checks.requireFloat("axpy y", y);
        elementwise(y, new Tensor[] {x}, true, 1, (in, o, len) ->
                v.axpy(alpha, in[0].arr, in[0].off, o.arr, o.off, len));
        return y;
    }

    Tensor unary(Unary f, Tensor x, Tensor out) {
        int cost = switch (f) {
            case RELU, NEG, ABS, SQUARE, RELU2 -> 1;
            default -> 16; // transcendental: worth threads at smaller sizes
        };
        float[] xd = direct(x), od = direct(out);
        if (xd != null && od != null && x.shape().equals(out.shape()) && x.size() <= Integer.MAX_VALUE
                && sequential(Rows.rowCount(out), out.size() * cost)) {
            // Row by row (see elementwise(..., byRow)): a row's values do not depend on how many rows there are.
            int cols = width(out), xi = GemmKernel.heapIndex(x), oi = GemmKernel.heapIndex(out);
            for (long r = 0, rows = cols == 0 ? 0 : out.size() / cols; r < rows; r++) {
                v.unary(f, xd, xi + (int) r * cols, od, oi + (int) r * cols, cols);
            }
            return out;
        }
        Checks.sameShape("unary " + f, x.shape(), out.shape());
        Checks.requireFloat("unary " + f, x);
        Checks.requireFloat("unary " + f + " out", out);
        elementwise(out, new Tensor[] {x}, false, cost, (in, o, len) ->
                v.unary(f, in[0].arr, in[0].off, o.arr, o.off, len), true);
        return out;
    }
}
