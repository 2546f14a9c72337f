package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.kernel.Checks;
import dev.interlayer.tensor.kernel.Rows;
import java.lang.foreign.MemorySegment;

import static dev.interlayer.tensor.simd.SimdDrivers.*;

/** Row normalisations of {@link SimdKernels}: RMSNorm (optionally with Gemma's 1 + w gain) and LayerNorm. */
final class SimdNorms {
    private final VecOps v;

    SimdNorms(VecOps v) {
        this.v = v;
    }


    // The weight row as a float[] of length d (null stays null); onePlus adds 1 (Gemma's stored w).
    private float[] weightRow(Tensor w, int d, boolean onePlus) {
        if (w == null) {
            return null;
        }
        RowCursor c = new RowCursor(w);
        c.read(0, 0, d);
        float[] r = new float[d];
        if (onePlus) {
            v.addScalar(c.arr, c.off, 1f, r, 0, d);
        } else {
            System.arraycopy(c.arr, c.off, r, 0, d);
        }
        return r;
    }

    Tensor rmsNorm(Tensor x, Tensor weight, float eps, boolean onePlusWeight, Tensor out) {
        int d = Checks.rowNorm("rmsNorm", x, weight, null, out);
        if (d == 0) {
            return out;
        }
        long n = Rows.rowCount(x);
        float[] xd = direct(x), od = direct(out);
        if (xd != null && od != null && sequential(n, n * d * 3)) {
            rmsNormDirect(xd, GemmKernel.heapIndex(x), weight, d, onePlusWeight, eps, od, GemmKernel.heapIndex(out), (int) n);
            return out;
        }
        float[] w = weightRow(weight, d, onePlusWeight);
        forRange(n, n * d * 3, (lo, hi) -> {
            RowCursor xc = new RowCursor(x), oc = new RowCursor(out);
            for (long r = lo; r < hi; r++) {
                xc.read(r, 0, d);
                float ss = v.sumSq(xc.arr, xc.off, d);
                float inv = (float) (1.0 / Math.sqrt((double) ss / d + eps));
                oc.beginWrite(r, 0, d);
                v.mulScaled(xc.arr, xc.off, inv, w, 0, oc.arr, oc.off, d);
                oc.endWrite(r, 0, d);
            }
        });
        return out;
    }

    // rmsNorm of n contiguous rows of width d on the calling thread; the weight is used in place when it
    // is a heap row, else read into a per-thread scratch row (mapped model weights).
    private void rmsNormDirect(float[] x, int xo, Tensor weight, int d, boolean onePlus, float eps, float[] out,
                               int oo, int n) {
        float[] w = null;
        int wo = 0;
        if (weight != null) {
            float[] wd = onePlus ? null : direct(weight);
            if (wd != null) {
                w = wd;
                wo = GemmKernel.heapIndex(weight);
            } else {
                float[][] holder = WEIGHT_SCRATCH.get();
                if (holder[0] == null || holder[0].length < d) {
                    holder[0] = new float[d];
                }
                w = holder[0];
                if (weight.dtype() == DType.F32 && weight.isContiguous()) {
                    MemorySegment.copy(weight.segment(), Tensor.F32, weight.byteOffset(), w, 0, d);
                } else {
                    for (int i = 0; i < d; i++) {
                        w[i] = weight.readFloat(weight.offset() + i * weight.stride(0));
                    }
                }
                if (onePlus) {
                    v.addScalar(w, 0, 1f, w, 0, d);
                }
            }
        }
        for (int r = 0; r < n; r++) {
            int xr = xo + r * d, or = oo + r * d;
            float ss = v.sumSq(x, xr, d);
            float inv = (float) (1.0 / Math.sqrt((double) ss / d + eps));
            v.mulScaled(x, xr, inv, w, wo, out, or, d);
        }
    }

    Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        int d = Checks.rowNorm("layerNorm", x, weight, bias, out);
        if (d == 0) {
            return out;
        }
        long n = Rows.rowCount(x);
        float[] xd = direct(x), od = direct(out);
        float[] wr = weight == null ? null : rowArray(weight, d, 0), br = bias == null ? null : rowArray(bias, d, 1);
        if (xd != null && od != null && sequential(n, n * d * 4) && (weight == null) == (wr == null)
                && (bias == null) == (br == null)) {
            // Decode path (e.g. GPT-2, BERT): contiguous heap rows, weights read in place or into scratch.
            int xo = GemmKernel.heapIndex(x), oo = GemmKernel.heapIndex(out);
            int wo = weight == null ? 0 : rowArrayOffset(weight), bo = bias == null ? 0 : rowArrayOffset(bias);
            for (int r = 0; r < n; r++) {
                int xr = xo + r * d, or = oo + r * d;
                float mean = (float) ((double) v.sum(xd, xr, d) / d);
                double var = (double) v.sumSqDev(xd, xr, mean, d) / d;      // two-pass: no cancellation
                float inv = (float) (1.0 / Math.sqrt(var + eps));            // eps inside the sqrt
                v.normAffine(xd, xr, mean, inv, wr, wo, br, bo, od, or, d);
            }
            return out;
        }
        float[] w = weightRow(weight, d, false), b = weightRow(bias, d, false);
        forRange(n, n * d * 4, (lo, hi) -> {
            RowCursor xc = new RowCursor(x), oc = new RowCursor(out);
            for (long r = lo; r < hi; r++) {
                xc.read(r, 0, d);
                float mean = (float) ((double) v.sum(xc.arr, xc.off, d) / d);
                double var = (double) v.sumSqDev(xc.arr, xc.off, mean, d) / d; // two-pass: no cancellation
                float inv = (float) (1.0 / Math.sqrt(var + eps));                 // eps inside the sqrt
                oc.beginWrite(r, 0, d);
                v.normAffine(xc.arr, xc.off, mean, inv, w, 0, b, 0, oc.arr, oc.off, d);
                oc.endWrite(r, 0, d);
            }
        });
        return out;
    }
}
