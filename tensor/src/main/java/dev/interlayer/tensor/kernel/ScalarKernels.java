package dev.interlayer.tensor.kernel;

import dev.interlayer.tensor.Binary;
import dev.interlayer.tensor.Kernels;
import dev.interlayer.tensor.Reduction;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.SoftmaxOptions;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;

/**
 * Scalar reference kernels: the oracle every SIMD kernel is tested against. Obviously correct
 * before fast; accumulate in double where it is cheap to do so.
 */
public final class ScalarKernels implements Kernels {
    /** Creates the (stateless) scalar kernels; {@link Kernels#scalar()} holds a shared instance. */
    public ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    // ---- element-wise ----

    @Override
    public Tensor binary(Binary op, Tensor a, Tensor b, Tensor out) {
        Shape s = Broadcast.shape("binary " + op, a.shape(), b.shape());
        Checks.sameShape("binary " + op + " out", s, out.shape());
        Tensor ea = a.expand(s), eb = b.expand(s);
        Checks.requireF32("binary " + op, out);
        StridedIter.forEach(s, idx -> out.setFloat(op.apply(ea.getFloat(idx), eb.getFloat(idx)), idx));
        return out;
    }

    @Override
    public Tensor scale(Tensor a, float s, Tensor out) {
        Checks.sameShape("scale", a.shape(), out.shape());
        StridedIter.forEach(a.shape(), idx -> out.setFloat(a.getFloat(idx) * s, idx));
        return out;
    }

    @Override
    public Tensor axpy(float alpha, Tensor x, Tensor y) {
        Checks.sameShape("axpy", x.shape(), y.shape());
        StridedIter.forEach(x.shape(), idx -> y.setFloat(y.getFloat(idx) + alpha * x.getFloat(idx), idx));
        return y;
    }

    @Override
    public Tensor unary(Unary f, Tensor x, Tensor out) {
        Checks.sameShape("unary " + f, x.shape(), out.shape());
        StridedIter.forEach(x.shape(), idx -> out.setFloat(f.apply(x.getFloat(idx)), idx));
        return out;
    }

    // ---- row ops ----

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps, boolean onePlusWeight, Tensor out) {
        int d = Checks.rowNorm("rmsNorm", x, weight, null, out);
        Rows.forEachRow(x, out, (xr, or) -> {
            double ss = 0;
            for (int i = 0; i < d; i++) {
                double v = xr.getFloat(i);
                ss += v * v;
            }
            float inv = (float) (1.0 / Math.sqrt(ss / d + eps));
            for (int i = 0; i < d; i++) {
                float w = weight == null ? 1f : (onePlusWeight ? 1f + weight.getFloat(i) : weight.getFloat(i));
                or.setFloat(xr.getFloat(i) * inv * w, i);
            }
        });
        return out;
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        int d = Checks.rowNorm("layerNorm", x, weight, bias, out);
        Rows.forEachRow(x, out, (xr, or) -> {
            double mean = 0;
            for (int i = 0; i < d; i++) {
                mean += xr.getFloat(i);
            }
            mean /= d;
            double var = 0;
            for (int i = 0; i < d; i++) {
                double c = xr.getFloat(i) - mean;
                var += c * c;
            }
            var /= d;
            double inv = 1.0 / Math.sqrt(var + eps);
            for (int i = 0; i < d; i++) {
                double v = (xr.getFloat(i) - mean) * inv;
                if (weight != null) {
                    v *= weight.getFloat(i);
                }
                if (bias != null) {
                    v += bias.getFloat(i);
                }
                or.setFloat((float) v, i);
            }
        });
        return out;
    }

    @Override
    public Tensor softmax(Tensor x, SoftmaxOptions o, Tensor out) {
        return softmaxImpl("softmax", x, o, out, false);
    }

    @Override
    public Tensor logSoftmax(Tensor x, SoftmaxOptions o, Tensor out) {
        return softmaxImpl("logSoftmax", x, o, out, true);
    }

    private static Tensor softmaxImpl(String op, Tensor x, SoftmaxOptions o, Tensor out, boolean log) {
        Checks.sameShape(op, x.shape(), out.shape());
        int cols = x.dim(-1);
        int rowsInMatrix = x.rank() >= 2 ? x.dim(-2) : 1;
        Tensor mask = o.additiveMask() == null ? null : o.additiveMask().expand(x.shape());
        double[] buf = new double[cols];
        Rows.forEachRowIndexed(x, out, (row, xr, or) -> {
            int r = (int) (row % rowsInMatrix);
            Tensor mr = mask == null ? null : Rows.row(mask, row);
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                double v = (double) xr.getFloat(c) * o.scale();
                if (o.softcap() > 0) {
                    v = o.softcap() * Math.tanh(v / o.softcap());
                }
                if (mr != null) {
                    v += mr.getFloat(c);
                }
                if (!o.visible(r, c)) {
                    v = Double.NEGATIVE_INFINITY;
                }
                buf[c] = v;
                if (v > max || Double.isNaN(v)) {
                    max = Double.isNaN(max) ? max : (Double.isNaN(v) ? v : Math.max(max, v));
                }
            }
            if (max == Double.NEGATIVE_INFINITY) {
                for (int c = 0; c < cols; c++) {
                    or.setFloat(log ? Float.NEGATIVE_INFINITY : 0f, c);
                }
                return;
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(buf[c] - max);
            }
            double logSum = Math.log(sum);
            for (int c = 0; c < cols; c++) {
                double v = log ? buf[c] - max - logSum : Math.exp(buf[c] - max) / sum;
                or.setFloat((float) v, c);
            }
        });
        return out;
    }

    @Override
    public Tensor rope(Tensor x, Rope rope, int[] positions, Tensor out) {
        int hd = rope.headDim();
        int tokens = x.dim(0);
        long perToken = Checks.rope(x, hd, positions, out);
        int heads = (int) (perToken / hd);
        int half = rope.rotaryDim() / 2;
        for (int t = 0; t < tokens; t++) {
            Tensor xt = x.select(0, t).contiguous().reshape(heads, hd);
            Tensor ot = Tensor.zeros(heads, hd);
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < hd; i++) {
                    ot.setFloat(xt.getFloat(h, i), h, i);
                }
                for (int i = 0; i < half; i++) {
                    double ang = (double) positions[t] * rope.invFreq(i);
                    float cos = (float) Math.cos(ang) * rope.attentionScaling();
                    float sin = (float) Math.sin(ang) * rope.attentionScaling();
                    int i0 = rope.pairing() == Rope.Pairing.HALF_SPLIT ? i : 2 * i;
                    int i1 = rope.pairing() == Rope.Pairing.HALF_SPLIT ? i + half : 2 * i + 1;
                    float a = xt.getFloat(h, i0), b = xt.getFloat(h, i1);
                    ot.setFloat(a * cos - b * sin, h, i0);
                    ot.setFloat(b * cos + a * sin, h, i1);
                }
            }
            out.select(0, t).copyFrom(ot.reshape(out.select(0, t).shape()));
        }
        return out;
    }

    @Override
    public Tensor reduce(Reduction r, Tensor x, int axis, Tensor out) {
        int a = x.shape().axis(axis);
        Shape expected = x.shape().with(a, 1);
        Checks.sameShape("reduce " + r, expected, out.shape());
        int n = x.dim(a);
        if (n == 0 && (r == Reduction.MAX || r == Reduction.ARGMAX)) {
            throw new IllegalArgumentException("reduce " + r + ": axis " + axis + " of " + x.shape() + " is empty");
        }
        StridedIter.forEach(expected, idx -> {
            int[] j = idx.clone();
            double acc = r == Reduction.MAX ? Double.NEGATIVE_INFINITY : 0;
            int arg = 0;
            for (int k = 0; k < n; k++) {
                j[a] = k;
                double v = x.getFloat(j);
                switch (r) {
                    case SUM, MEAN -> acc += v;
                    case L2_NORM -> acc += v * v;
                    case MAX, ARGMAX -> {
                        if (v > acc || Double.isNaN(v) && !Double.isNaN(acc) || k == 0) {
                            acc = v;
                            arg = k;
                        }
                    }
                }
            }
            float res = switch (r) {
                case SUM, MAX -> (float) acc;
                case MEAN -> (float) (acc / n);
                case L2_NORM -> (float) Math.sqrt(acc);
                case ARGMAX -> arg;
            };
            out.setFloat(res, idx);
        });
        return out;
    }

    // ---- array primitives ----

    @Override
    public float expShiftSum(float[] x, int xOff, float shift, float[] out, int oOff, int n) {
        Checks.range("expShiftSum", "x", x, xOff, n);
        Checks.range("expShiftSum", "out", out, oOff, n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp((double) x[xOff + i] - shift);
            out[oOff + i] = e;
            sum += e;
        }
        return (float) sum;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        Checks.range("dot", "a", a, aOff, n);
        Checks.range("dot", "b", b, bOff, n);
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += (double) a[aOff + i] * b[bOff + i];
        }
        return (float) acc;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Checks.range("axpy", "x", x, xOff, n);
        Checks.range("axpy", "y", y, yOff, n);
        for (int i = 0; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    @Override
    public void dotRows(float[] q, int qOff, float[] k, int kOff, int kStride, int rows, int d, float scale,
                        float[] out, int oOff) {
        Checks.dotRows(q, qOff, k, kOff, kStride, rows, d, out, oOff);
        for (int j = 0; j < rows; j++) {
            double acc = 0;
            for (int i = 0; i < d; i++) {
                acc += (double) q[qOff + i] * k[kOff + j * kStride + i];
            }
            out[oOff + j] = (float) (acc * scale);
        }
    }

    @Override
    public void addWeightedRows(float[] p, int pOff, float[] v, int vOff, int vStride, int rows, int d, float[] out,
                                int oOff) {
        Checks.addWeightedRows(p, pOff, v, vOff, vStride, rows, d, out, oOff);
        for (int i = 0; i < d; i++) {
            double acc = out[oOff + i];
            for (int j = 0; j < rows; j++) {
                acc += (double) p[pOff + j] * v[vOff + j * vStride + i];
            }
            out[oOff + i] = (float) acc;
        }
    }

    // ---- gather, concat, selection ----

    @Override
    public Tensor embedding(Tensor table, int[] ids, Tensor out) {
        Checks.embedding(table, ids, out);
        for (int i = 0; i < ids.length; i++) {
            out.select(0, i).copyFrom(table.select(0, ids[i]));
        }
        return out;
    }

    @Override
    public Tensor concat(Tensor[] inputs, int axis, Tensor out) {
        int a = Checks.concat(inputs, axis, out);
        int pos = 0;
        for (Tensor in : inputs) {
            out.slice(a, pos, pos + in.dim(a)).copyFrom(in);
            pos += in.dim(a);
        }
        return out;
    }

    @Override
    public int topK(Tensor x, int k, float[] values, int[] indices) {
        int m = Checks.topK(x, k, values, indices);
        Integer[] order = sortedDescending(x);
        for (int i = 0; i < m; i++) {
            indices[i] = order[i];
            values[i] = x.getFloat(order[i]);
        }
        return m;
    }

    @Override
    public int topP(Tensor probs, float p, int[] indices) {
        Checks.topP(probs, p, indices);
        Integer[] order = sortedDescending(probs);
        double mass = 0;
        for (int i = 0; i < order.length; i++) {
            indices[i] = order[i];
            mass += probs.getFloat(order[i]);
            if (mass >= p) {
                return i + 1;
            }
        }
        return order.length;
    }

    // Indices of a row by value descending, NaN last, ties by ascending index.
    private static Integer[] sortedDescending(Tensor x) {
        int n = x.dim(0);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (i, j) -> {
            float a = x.getFloat(i), b = x.getFloat(j);
            boolean na = Float.isNaN(a), nb = Float.isNaN(b);
            if (na != nb) {
                return na ? 1 : -1;
            }
            if (!na && a != b) {
                return a > b ? -1 : 1;
            }
            return Integer.compare(i, j);
        });
        return order;
    }
}
