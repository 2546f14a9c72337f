package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.Binary;
import dev.interlayer.tensor.SoftmaxOptions;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;
import dev.interlayer.tensor.kernel.Checks;
import dev.interlayer.tensor.kernel.Rows;
import java.util.Arrays;

import static dev.interlayer.tensor.simd.SimdDrivers.*;

/** Row softmax and log-softmax of {@link SimdKernels}, with scale, tanh soft-cap, additive mask, causal and sliding-window limits. */
final class SimdSoftmax {
    private final VecOps v;

    SimdSoftmax(VecOps v) {
        this.v = v;
    }

    Tensor softmax(Tensor x, SoftmaxOptions o, Tensor out) {
        return softmaxRows("softmax", x, o, out, false);
    }

    Tensor logSoftmax(Tensor x, SoftmaxOptions o, Tensor out) {
        return softmaxRows("logSoftmax", x, o, out, true);
    }

    private Tensor softmaxRows(String op, Tensor x, SoftmaxOptions o, Tensor out, boolean log) {
        Checks.sameShape(op, x.shape(), out.shape());
        if (x.dim(-1) == 0) {
            return out;
        }
        int cols = x.dim(-1);
        int rowsInMatrix = x.rank() >= 2 ? x.dim(-2) : 1;
        Tensor mask = o.additiveMask() == null ? null : o.additiveMask().expand(x.shape());
        float empty = log ? Float.NEGATIVE_INFINITY : 0f;
        long n = Rows.rowCount(x);
        forRange(n, n * cols * 24, (lo, hi) -> {
            RowCursor xc = new RowCursor(x), oc = new RowCursor(out);
            RowCursor mc = mask == null ? null : new RowCursor(mask);
            float[] z = new float[cols];
            float[] e = log ? new float[cols] : null;
            for (long r = lo; r < hi; r++) {
                long q = r % rowsInMatrix + o.queryOffset();
                int cLo = o.window() > 0 ? (int) Math.max(0, q - o.window() + 1) : 0;
                int cHi = o.causal() ? (int) Math.min(cols, q + 1) : cols;
                oc.beginWrite(r, 0, cols);
                float[] oa = oc.arr;
                int oo = oc.off;
                if (cLo >= cHi) {
                    Arrays.fill(oa, oo, oo + cols, empty);
                    oc.endWrite(r, 0, cols);
                    continue;
                }
                int m = cHi - cLo;
                xc.read(r, cLo, m);
                v.scale(xc.arr, xc.off, o.scale(), z, cLo, m);
                if (o.softcap() > 0) {
                    v.scale(z, cLo, 1f / o.softcap(), z, cLo, m);
                    v.unary(Unary.TANH, z, cLo, z, cLo, m);
                    v.scale(z, cLo, o.softcap(), z, cLo, m);
                }
                if (mc != null) {
                    mc.read(r, cLo, m);
                    v.binary(Binary.ADD, z, cLo, mc.arr, mc.off, z, cLo, m);
                }
                float max = v.max(z, cLo, m);
                if (Float.isNaN(max)) {
                    Arrays.fill(oa, oo, oo + cols, Float.NaN);
                } else if (max == Float.NEGATIVE_INFINITY) {
                    Arrays.fill(oa, oo, oo + cols, empty); // every key masked: a padded row contributes nothing
                } else {
                    Arrays.fill(oa, oo, oo + cLo, empty);
                    Arrays.fill(oa, oo + cHi, oo + cols, empty);
                    if (log) {
                        float sum = v.expShiftSum(z, cLo, max, e, 0, m);
                        v.addScalar(z, cLo, -max, oa, oo + cLo, m);
                        v.addScalar(oa, oo + cLo, (float) -Math.log(sum), oa, oo + cLo, m);
                    } else {
                        float sum = v.expShiftSum(z, cLo, max, oa, oo + cLo, m);
                        v.scale(oa, oo + cLo, 1f / sum, oa, oo + cLo, m);
                    }
                }
                oc.endWrite(r, 0, cols);
            }
        });
        return out;
    }
}
