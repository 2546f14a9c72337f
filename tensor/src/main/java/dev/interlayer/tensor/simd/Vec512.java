package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.Binary;
import dev.interlayer.tensor.Unary;
import jdk.incubator.vector.*;

/**
 * {@link VecOps} on 512-bit vectors.
 * MASTER COPY: Vec256 and Vec128 are generated from this file at build time (tensor/src/main/codegen/VecWidths.java).
 */
final class Vec512 implements VecOps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final int L = F.length();
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(F, i -> i ^ 1);

    @Override
    public int bits() {
        return 512;
    }

    // ---- element-wise ----

    @Override
    public void binary(Binary op, float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        int i = 0;
        int ub = F.loopBound(n);
        switch (op) {
            case ADD -> {
                for (; i < ub; i += L) {
                    FloatVector.fromArray(F, a, ao + i).add(FloatVector.fromArray(F, b, bo + i)).intoArray(out, oo + i);
                }
            }
            case SUB -> {
                for (; i < ub; i += L) {
                    FloatVector.fromArray(F, a, ao + i).sub(FloatVector.fromArray(F, b, bo + i)).intoArray(out, oo + i);
                }
            }
            case MUL -> {
                for (; i < ub; i += L) {
                    FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)).intoArray(out, oo + i);
                }
            }
            case DIV -> {
                for (; i < ub; i += L) {
                    FloatVector.fromArray(F, a, ao + i).div(FloatVector.fromArray(F, b, bo + i)).intoArray(out, oo + i);
                }
            }
            case MAX -> {
                for (; i < ub; i += L) {
                    FloatVector.fromArray(F, a, ao + i).max(FloatVector.fromArray(F, b, bo + i)).intoArray(out, oo + i);
                }
            }
        }
        for (; i < n; i++) {
            out[oo + i] = op.apply(a[ao + i], b[bo + i]);
        }
    }

    @Override
    public void scale(float[] a, int ao, float s, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, a, ao + i).mul(s).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = a[ao + i] * s;
        }
    }

    @Override
    public void addScalar(float[] a, int ao, float s, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, a, ao + i).add(s).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = a[ao + i] + s;
        }
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(F, alpha);
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).fma(va, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]);
        }
    }

    @Override
    public void unary(Unary f, float[] x, int xo, float[] out, int oo, int n) {
        Vec512Unary.apply(f, x, xo, out, oo, n);
    }

    // ---- reductions ----

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (int ub = n - 2 * L; i <= ub; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
            acc1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), acc1);
        }
        if (i <= n - L) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
            i += L;
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s = Math.fma(a[ao + i], b[bo + i], s);
        }
        return s;
    }

    // Four key rows at a time: four independent FMA chains over d, one lane reduction per row.
    @Override
    public void dotRows(float[] q, int qo, float[] k, int ko, int ks, int rows, int d, float scale, float[] out,
                        int oo) {
        int vb = F.loopBound(d), j = 0;
        for (; j + 4 <= rows; j += 4) {
            int k0 = ko + j * ks, k1 = k0 + ks, k2 = k1 + ks, k3 = k2 + ks;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i < vb; i += L) {
                FloatVector x = FloatVector.fromArray(F, q, qo + i);
                a0 = FloatVector.fromArray(F, k, k0 + i).fma(x, a0);
                a1 = FloatVector.fromArray(F, k, k1 + i).fma(x, a1);
                a2 = FloatVector.fromArray(F, k, k2 + i).fma(x, a2);
                a3 = FloatVector.fromArray(F, k, k3 + i).fma(x, a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
            for (; i < d; i++) {
                float x = q[qo + i];
                s0 = Math.fma(x, k[k0 + i], s0);
                s1 = Math.fma(x, k[k1 + i], s1);
                s2 = Math.fma(x, k[k2 + i], s2);
                s3 = Math.fma(x, k[k3 + i], s3);
            }
            out[oo + j] = s0 * scale;
            out[oo + j + 1] = s1 * scale;
            out[oo + j + 2] = s2 * scale;
            out[oo + j + 3] = s3 * scale;
        }
        for (; j < rows; j++) {
            out[oo + j] = dot(q, qo, k, ko + j * ks, d) * scale;
        }
    }

    // Columns in groups of four vectors held in registers across all rows (one load and store of out
    // per group instead of one per row), then single vectors, then scalar columns; rows in order.
    @Override
    public void addWeightedRows(float[] p, int po, float[] v, int vo, int vs, int rows, int d, float[] out, int oo) {
        int c = 0;
        for (; c + 4 * L <= d; c += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(F, out, oo + c), a1 = FloatVector.fromArray(F, out, oo + c + L);
            FloatVector a2 = FloatVector.fromArray(F, out, oo + c + 2 * L);
            FloatVector a3 = FloatVector.fromArray(F, out, oo + c + 3 * L);
            for (int j = 0, r = vo + c; j < rows; j++, r += vs) {
                FloatVector w = FloatVector.broadcast(F, p[po + j]);
                a0 = FloatVector.fromArray(F, v, r).fma(w, a0);
                a1 = FloatVector.fromArray(F, v, r + L).fma(w, a1);
                a2 = FloatVector.fromArray(F, v, r + 2 * L).fma(w, a2);
                a3 = FloatVector.fromArray(F, v, r + 3 * L).fma(w, a3);
            }
            a0.intoArray(out, oo + c);
            a1.intoArray(out, oo + c + L);
            a2.intoArray(out, oo + c + 2 * L);
            a3.intoArray(out, oo + c + 3 * L);
        }
        for (; c + L <= d; c += L) {
            FloatVector a = FloatVector.fromArray(F, out, oo + c);
            for (int j = 0, r = vo + c; j < rows; j++, r += vs) {
                a = FloatVector.fromArray(F, v, r).fma(FloatVector.broadcast(F, p[po + j]), a);
            }
            a.intoArray(out, oo + c);
        }
        for (; c < d; c++) {
            float a = out[oo + c];
            for (int j = 0, r = vo + c; j < rows; j++, r += vs) {
                a = Math.fma(p[po + j], v[r], a);
            }
            out[oo + c] = a;
        }
    }

    @Override
    public float sum(float[] x, int xo, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0;
        for (int ub = n - 2 * L; i <= ub; i += 2 * L) {
            acc0 = acc0.add(FloatVector.fromArray(F, x, xo + i));
            acc1 = acc1.add(FloatVector.fromArray(F, x, xo + i + L));
        }
        if (i <= n - L) {
            acc0 = acc0.add(FloatVector.fromArray(F, x, xo + i));
            i += L;
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += x[xo + i];
        }
        return s;
    }

    @Override
    public float sumSq(float[] x, int xo, int n) {
        return dot(x, xo, x, xo, n);
    }

    @Override
    public float sumSqDev(float[] x, int xo, float mean, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector c = FloatVector.fromArray(F, x, xo + i).sub(mean);
            acc = c.fma(c, acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float c = x[xo + i] - mean;
            s = Math.fma(c, c, s);
        }
        return s;
    }

    @Override
    public float max(float[] x, int xo, int n) {
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            acc = acc.max(FloatVector.fromArray(F, x, xo + i)); // Math.max semantics: NaN propagates
        }
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, x[xo + i]);
        }
        return m;
    }

    @Override
    public int indexOf(float[] x, int xo, float v, int n) {
        boolean nan = Float.isNaN(v);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + i);
            VectorMask<Float> m = nan ? xv.test(VectorOperators.IS_NAN) : xv.compare(VectorOperators.EQ, v);
            if (m.anyTrue()) {
                return i + m.firstTrue();
            }
        }
        for (; i < n; i++) {
            float e = x[xo + i];
            if (nan ? Float.isNaN(e) : e == v) {
                return i;
            }
        }
        return -1;
    }

    // ---- row kernels ----

    @Override
    public float expShiftSum(float[] x, int xo, float shift, float[] out, int oo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector e = FloatVector.fromArray(F, x, xo + i).sub(shift).lanewise(VectorOperators.EXP);
            e.intoArray(out, oo + i);
            acc = acc.add(e);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[xo + i] - shift);
            out[oo + i] = e;
            s += e;
        }
        return s;
    }

    @Override
    public void mulScaled(float[] x, int xo, float s, float[] w, int wo, float[] out, int oo, int n) {
        if (w == null) {
            scale(x, xo, s, out, oo, n);
            return;
        }
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).mul(s).mul(FloatVector.fromArray(F, w, wo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = x[xo + i] * s * w[wo + i];
        }
    }

    @Override
    public void normAffine(float[] x, int xo, float mean, float inv, float[] w, int wo, float[] b, int bo,
                           float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i).sub(mean).mul(inv);
            if (w != null) {
                v = v.mul(FloatVector.fromArray(F, w, wo + i));
            }
            if (b != null) {
                v = v.add(FloatVector.fromArray(F, b, bo + i));
            }
            v.intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float v = (x[xo + i] - mean) * inv;
            if (w != null) {
                v *= w[wo + i];
            }
            if (b != null) {
                v += b[bo + i];
            }
            out[oo + i] = v;
        }
    }

    @Override
    public void rotateHalf(float[] x, int xo, float[] cos, float[] sin, float[] out, int oo, int half) {
        int i = 0;
        for (int ub = F.loopBound(half); i < ub; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, xo + i);
            FloatVector b = FloatVector.fromArray(F, x, xo + half + i);
            FloatVector c = FloatVector.fromArray(F, cos, i);
            FloatVector s = FloatVector.fromArray(F, sin, i);
            a.mul(c).sub(b.mul(s)).intoArray(out, oo + i);
            b.mul(c).add(a.mul(s)).intoArray(out, oo + half + i);
        }
        for (; i < half; i++) {
            float a = x[xo + i], b = x[xo + half + i];
            out[oo + i] = a * cos[i] - b * sin[i];
            out[oo + half + i] = b * cos[i] + a * sin[i];
        }
    }

    @Override
    public void rotatePairs(float[] x, int xo, float[] cos2, float[] sin2, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector sw = v.rearrange(SWAP_PAIRS);
            v.mul(FloatVector.fromArray(F, cos2, i)).add(sw.mul(FloatVector.fromArray(F, sin2, i))).intoArray(out, oo + i);
        }
        for (; i < n; i += 2) { // L is even, so the tail holds whole pairs
            float a = x[xo + i], b = x[xo + i + 1];
            out[oo + i] = a * cos2[i] + b * sin2[i];
            out[oo + i + 1] = b * cos2[i + 1] + a * sin2[i + 1];
        }
    }
}
