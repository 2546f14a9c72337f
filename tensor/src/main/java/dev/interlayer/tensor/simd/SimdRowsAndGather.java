package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Reduction;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.kernel.Checks;
import dev.interlayer.tensor.kernel.Rows;
import java.lang.foreign.MemorySegment;

import static dev.interlayer.tensor.simd.SimdDrivers.*;

/** Reductions along an axis, embedding row gathers and concatenation for {@link SimdKernels}. */
final class SimdRowsAndGather {
    private final VecOps v;

    SimdRowsAndGather(VecOps v) {
        this.v = v;
    }


    Tensor reduce(Reduction red, Tensor x, int axis, Tensor out) {
        int a = x.shape().axis(axis);
        Shape expected = x.shape().with(a, 1);
        Checks.sameShape("reduce " + red, expected, out.shape());
        Checks.requireFloat("reduce " + red, x);
        int n = x.dim(a);
        if (n == 0 && (red == Reduction.MAX || red == Reduction.ARGMAX)) {
            throw new IllegalArgumentException("reduce " + red + ": axis " + axis + " of " + x.shape() + " is empty");
        }
        int last = x.rank() - 1;
        Tensor xt = a == last ? x : x.transpose(a, last); // reduced axis last; rows then match out's elements
        Tensor ot = a == last ? out : out.transpose(a, last);
        long count = expected.size(); // one output per row of xt, even when the reduced axis is empty
        forRange(count, count * n, (lo, hi) -> {
            RowCursor xc = new RowCursor(xt), oc = new RowCursor(ot);
            for (long r = lo; r < hi; r++) {
                float res;
                if (n == 0) {
                    res = red == Reduction.MEAN ? Float.NaN : 0f;
                } else {
                    xc.read(r, 0, n);
                    res = switch (red) {
                        case SUM -> v.sum(xc.arr, xc.off, n);
                        case MEAN -> (float) ((double) v.sum(xc.arr, xc.off, n) / n);
                        case MAX -> v.max(xc.arr, xc.off, n);
                        case ARGMAX -> v.indexOf(xc.arr, xc.off, v.max(xc.arr, xc.off, n), n);
                        case L2_NORM -> (float) Math.sqrt(v.sumSq(xc.arr, xc.off, n));
                    };
                }
                oc.beginWrite(r, 0, 1);
                oc.arr[oc.off] = res;
                oc.endWrite(r, 0, 1);
            }
        });
        return out;
    }


    Tensor embedding(Tensor table, int[] ids, Tensor out) {
        Checks.embedding(table, ids, out);
        int d = table.dim(1);
        if (d == 0) {
            return out;
        }
        float[] od = direct(out);
        if (od != null && table.dtype() == DType.F32 && table.stride(1) == 1) {
            // F32 table in any segment (a mapped checkpoint) into a heap output: one bulk copy per id, no
            // cursors or scratch, so a decode step's lookup allocates nothing.
            int oo = GemmKernel.heapIndex(out);
            for (int i = 0; i < ids.length; i++) {
                long src = table.byteOffset() + (long) ids[i] * table.stride(0) * Float.BYTES;
                MemorySegment.copy(table.segment(), Tensor.F32, src, od, oo + i * d, d);
            }
            return out;
        }
        // Rows are independent bulk copies (F32) or conversions; never worth threads for a handful of ids.
        RowCursor tc = new RowCursor(table), oc = new RowCursor(out);
        for (int i = 0; i < ids.length; i++) {
            tc.read(ids[i], 0, d);
            oc.beginWrite(i, 0, d);
            System.arraycopy(tc.arr, tc.off, oc.arr, oc.off, d);
            oc.endWrite(i, 0, d);
        }
        return out;
    }

    Tensor concat(Tensor[] inputs, int axis, Tensor out) {
        int a = Checks.concat(inputs, axis, out);
        int pos = 0;
        for (Tensor in : inputs) {
            Tensor dst = out.slice(a, pos, pos + in.dim(a));
            pos += in.dim(a);
            if (in.size() == 0) {
                continue;
            }
            if (in.dtype() == out.dtype() && in.isContiguous() && dst.isContiguous()) {
                MemorySegment.copy(in.bytes(), 0, out.segment(), dst.byteOffset(), in.dtype().byteSize(in.size()));
            } else {
                copyRows(in, dst);
            }
        }
        return out;
    }

    // dst = src element-wise (same shape), row by row through cursors.
    private static void copyRows(Tensor src, Tensor dst) {
        int d = width(src);
        RowCursor sc = new RowCursor(src), dc = new RowCursor(dst);
        long n = Rows.rowCount(src);
        for (long r = 0; r < n; r++) {
            sc.read(r, 0, d);
            dc.beginWrite(r, 0, d);
            System.arraycopy(sc.arr, sc.off, dc.arr, dc.off, d);
            dc.endWrite(r, 0, d);
        }
    }
}
